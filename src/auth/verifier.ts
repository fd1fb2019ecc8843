/**
 * Tokens for both edges: the one rule set (rules.ts), the one signing-key cache (signing-keys.ts) and
 * one memory of verified tokens. REST calls `authenticate`; GraphQL is guarded by
 * @graphql-yoga/plugin-jwt (src/graphql/auth.ts), which asks `admit` for the token and the key and
 * then verifies with jsonwebtoken and the same options that `authenticate` uses.
 *
 * A verified token is remembered until it expires, so its signature is checked once, not on every
 * request (an RS256 verification costs ~75 µs here, a quarter of a GraphQL request).
 */
import type { KeyObject } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import type { AuthConfig } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Identity } from './identity.js';
import { bearerToken, CLOCK_TOLERANCE_S, inspectToken, tokenRules, type TokenRules } from './rules.js';
import { SigningKeys, SigningKeysUnavailableError, UnknownSigningKeyError } from './signing-keys.js';

const CACHE_LIMIT = 10_000;

/** A token that passed verification, as the JWT plugin puts it in `context.jwt`. */
export interface VerifiedToken {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly token: { readonly value: string; readonly prefix: string };
  readonly identity: Identity;
}

/** A token admitted as far as its signature: read, checked against the rules, its key at hand. */
export interface AdmittedToken {
  readonly token: string;
  readonly key: KeyObject;
}

export class TokenVerifier {
  readonly keys: SigningKeys;
  readonly rules: TokenRules;
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(config: AuthConfig, private readonly logger: Logger) {
    this.keys = new SigningKeys({ issuerUrl: config.issuerUrl }, logger);
    this.rules = tokenRules(config);
  }

  /** Fetches the keys ahead of the first request; failure is only logged (the IdP may come up later). */
  warmUp(): void {
    this.keys.refresh(false).catch(() => {});
  }

  /** REST: verifies an `Authorization` header value. Throws UnauthenticatedError with a reason a person can act on. */
  async authenticate(header: string | undefined): Promise<Identity> {
    const remembered = this.remembered(header);
    if (remembered) return remembered.identity;
    const { token, key } = await this.admit(header);
    let payload: Record<string, unknown>;
    try {
      payload = jsonwebtoken.verify(token, key, { ...this.rules.verifyOptions, complete: false }) as Record<string, unknown>;
    } catch (error) {
      throw this.refused(error);
    }
    return this.remember(token, payload).identity;
  }

  /**
   * Everything before the signature, for both edges: the bearer token of the header, checked against
   * the rules, and the key it names (refetched once if the issuer may have rotated).
   */
  async admit(header: string | undefined): Promise<AdmittedToken> {
    const token = bearerToken(header);
    const { kid } = inspectToken(token, this.rules);
    try {
      return { token, key: await this.keys.keyFor(kid) };
    } catch (error) {
      if (error instanceof SigningKeysUnavailableError || error instanceof UnknownSigningKeyError) throw this.refused(error);
      throw error;
    }
  }

  /** The verified token behind a header value, when this gateway verified it before and it has not expired. */
  remembered(header: string | undefined): VerifiedToken | undefined {
    if (!header || header.length < 8) return undefined;
    const found = this.verified.get(header.slice(7).trim());
    if (!found || !/^bearer /i.test(header)) return undefined;
    if ((found.payload.exp as number) + CLOCK_TOLERANCE_S > Date.now() / 1000) return found;
    this.verified.delete(found.token.value);
    return undefined;
  }

  /** Records a token whose signature jsonwebtoken has verified (here, or in the GraphQL JWT plugin). */
  remember(token: string, payload: Record<string, unknown>): VerifiedToken {
    const verified: VerifiedToken = { payload, token: { value: token, prefix: 'Bearer' }, identity: toIdentity(payload) };
    if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
    return verified;
  }

  private refused(error: unknown): UnauthenticatedError {
    const reason = describe(error);
    this.logger.debug({ reason }, 'token rejected');
    return new UnauthenticatedError(`Invalid token: ${reason}`);
  }
}

/** jsonwebtoken's and the key cache's failures, in words a person can act on. */
export function describe(error: unknown): string {
  if (error instanceof SigningKeysUnavailableError || error instanceof UnknownSigningKeyError) return error.message;
  if (error instanceof jsonwebtoken.TokenExpiredError) return 'token has expired';
  if (error instanceof jsonwebtoken.NotBeforeError) return 'token is not valid yet';
  if (error instanceof jsonwebtoken.JsonWebTokenError) {
    const m = error.message;
    if (m.includes('issuer')) return 'issuer is not accepted';
    if (m.includes('audience')) return 'audience does not include this gateway';
    if (m.includes('algorithm') || m.includes('asymmetric') || m.includes('key type')) return 'signing algorithm is not allowed';
    if (m.includes('signature')) return 'signature does not verify';
    return 'token is malformed';
  }
  return 'token could not be verified';
}

export function toIdentity(payload: Readonly<Record<string, unknown>>): Identity {
  const roles: string[] = [];
  const realm = (payload.realm_access as { roles?: unknown } | undefined)?.roles;
  if (Array.isArray(realm)) roles.push(...realm.filter((r): r is string => typeof r === 'string'));
  const resources = payload.resource_access as Record<string, { roles?: unknown }> | undefined;
  for (const [client, access] of Object.entries(resources ?? {})) {
    if (Array.isArray(access?.roles)) roles.push(...access.roles.filter((r): r is string => typeof r === 'string').map((r) => `${client}:${r}`));
  }
  const azp = typeof payload.azp === 'string' ? payload.azp : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  return {
    subject: sub ?? azp ?? 'unknown',
    clientId: azp,
    roles,
    claims: payload,
    expiresAt: payload.exp as number | undefined,
  };
}
