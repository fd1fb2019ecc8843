/**
 * The one rule set, two readers: `inspectToken` (the reasons both edges give) and jsonwebtoken with
 * `verifyOptions` (what verifies, in REST's verifier and in @graphql-yoga/plugin-jwt). For validly
 * signed tokens they must agree on every claim case, or one edge would accept what the other refuses.
 */
import { generateKeyPairSync } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { inspectToken, tokenRules } from '../src/auth/rules.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rules = tokenRules({ acceptedIssuers: ['https://idp/realms/r', 'http://localhost/realms/r'], audience: 'gw' });
const now = Math.floor(Date.now() / 1000);
const base = { iss: 'https://idp/realms/r', aud: 'gw', sub: 'u', exp: now + 300 };
const sign = (claims: Record<string, unknown>, alg: jsonwebtoken.Algorithm = 'RS256') =>
  jsonwebtoken.sign(claims, privateKey, { algorithm: alg, keyid: 'k', noTimestamp: true });

const cases: [string, Record<string, unknown>, RegExp | null][] = [
  ['valid', base, null],
  ['second accepted issuer', { ...base, iss: 'http://localhost/realms/r' }, null],
  ['audience in a list', { ...base, aud: ['account', 'gw'] }, null],
  ['expired 10 s ago (within the 30 s skew)', { ...base, exp: now - 10 }, null],
  ['expired 60 s ago', { ...base, exp: now - 60 }, /expired/],
  ['nbf 10 s ahead (within skew)', { ...base, nbf: now + 10 }, null],
  ['nbf 120 s ahead', { ...base, nbf: now + 120 }, /not valid yet/],
  ['wrong issuer', { ...base, iss: 'https://evil/realms/r' }, /issuer/],
  ['wrong audience', { ...base, aud: 'other' }, /audience/],
  ['audience list without ours', { ...base, aud: ['a', 'b'] }, /audience/],
];

describe('inspectToken and jsonwebtoken agree on the claims', () => {
  it.each(cases)('%s', (_name, claims, refused) => {
    const token = sign(claims);
    let jsonwebtokenRefused = false;
    try {
      jsonwebtoken.verify(token, publicKey, rules.verifyOptions);
    } catch {
      jsonwebtokenRefused = true;
    }
    if (refused) {
      expect(() => inspectToken(token, rules)).toThrow(refused);
      expect(jsonwebtokenRefused).toBe(true);
    } else {
      expect(() => inspectToken(token, rules)).not.toThrow();
      expect(jsonwebtokenRefused).toBe(false);
    }
  });

  it('requires what jsonwebtoken does not: an exp, and a string sub', () => {
    const { exp: _exp, ...noExp } = base;
    expect(() => jsonwebtoken.verify(sign(noExp), publicKey, rules.verifyOptions)).not.toThrow();
    expect(() => inspectToken(sign(noExp), rules)).toThrow(/no expiry/);
    expect(() => inspectToken(sign({ ...base, sub: 42 }), rules)).toThrow(/'sub' must be a string/);
  });

  it('allows asymmetric algorithms only, in both', () => {
    const hs = jsonwebtoken.sign(base, 'secret', { algorithm: 'HS256' });
    expect(() => inspectToken(hs, rules)).toThrow(/algorithm is not allowed/);
    expect(() => jsonwebtoken.verify(hs, 'secret', rules.verifyOptions)).toThrow(/invalid algorithm/);
    expect(() => inspectToken(sign(base, 'PS256'), rules)).not.toThrow();
  });
});
