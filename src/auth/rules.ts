/**
 * The one rule set for tokens, for REST and GraphQL alike: asymmetric algorithms only, an accepted
 * issuer, this gateway's audience, 30 s of clock skew, `exp` required, a string `sub`.
 *
 * jsonwebtoken (the library @graphql-yoga/plugin-jwt verifies with) enforces it through
 * `verifyOptions`; `inspectToken` reads the same rules before any key is looked up, so that every
 * refusal says what is wrong ("token has expired", "issuer is not accepted") and so that what
 * jsonwebtoken does not check (`exp` present, `sub` a string) is checked on both edges.
 */
import type { Algorithm, VerifyOptions } from 'jsonwebtoken';
import type { AuthConfig } from '../config.js';
import { UnauthenticatedError } from '../errors.js';

// What Keycloak signs with, minus the HMAC family (a shared secret has no place here) and EdDSA
// (jsonwebtoken cannot verify it).
export const ALGORITHMS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
export const CLOCK_TOLERANCE_S = 30;

export interface TokenRules {
  readonly issuers: readonly string[];
  readonly audience: string;
  /** The same rules as jsonwebtoken options. */
  readonly verifyOptions: VerifyOptions & { algorithms: Algorithm[] };
}

export function tokenRules(config: Pick<AuthConfig, 'acceptedIssuers' | 'audience'>): TokenRules {
  const issuers = [...config.acceptedIssuers];
  return {
    issuers,
    audience: config.audience,
    verifyOptions: {
      algorithms: [...ALGORITHMS],
      issuer: issuers as [string, ...string[]],
      audience: config.audience,
      clockTolerance: CLOCK_TOLERANCE_S,
    },
  };
}

/** A token as far as it can be read without its signature. */
export interface InspectedToken {
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
}

const invalid = (reason: string) => new UnauthenticatedError(`Invalid token: ${reason}`);
const ALGORITHM_SET = new Set<string>(ALGORITHMS);

/**
 * Checks everything but the signature, each failure as a 401 whose message says what is wrong.
 * Passing it means only the signature (and jsonwebtoken's own check of the same claims) is left.
 */
export function inspectToken(token: string, rules: TokenRules, nowS = Date.now() / 1000): InspectedToken {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('token is malformed');
  const header = decodePart(parts[0]!);
  const payload = decodePart(parts[1]!);
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALGORITHM_SET.has(alg)) throw invalid('signing algorithm is not allowed');
  if (!parts[2]) throw invalid('token is not signed');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw invalid("header 'kid' must be a string");
  const { exp, nbf, iss, aud, sub } = payload;
  if (exp === undefined) throw invalid("token has no expiry ('exp')");
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid("claim 'exp' must be a number");
  if (exp + CLOCK_TOLERANCE_S <= nowS) throw invalid('token has expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) throw invalid("claim 'nbf' must be a number");
  if (typeof nbf === 'number' && nbf - CLOCK_TOLERANCE_S > nowS) throw invalid('token is not valid yet');
  if (typeof iss !== 'string' || !rules.issuers.includes(iss)) throw invalid('issuer is not accepted');
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience)))) throw invalid('audience does not include this gateway');
  if (sub !== undefined && typeof sub !== 'string') throw invalid("claim 'sub' must be a string");
  return { alg: alg as Algorithm, kid: header.kid as string | undefined, payload };
}

function decodePart(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw invalid('token is malformed');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('token is malformed');
  return value as Record<string, unknown>;
}

/** The token of an `Authorization` header value; a missing header or another scheme is a 401 that says so. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthenticatedError('Authorization header missing', 'Bearer');
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  const token = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme.toLowerCase() !== 'bearer' || !token) {
    throw new UnauthenticatedError("Authorization header must be 'Bearer <token>'", 'Bearer error="invalid_request"');
  }
  return token;
}
