/**
 * The one token verifier, used by REST, GraphQL over HTTP and GraphQL over WebSocket alike.
 * Asymmetric algorithms only, issuer and audience checked, small clock skew; verified tokens are
 * remembered until they expire so the signature is checked once per token, not once per request.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Identity } from './identity.js';
import { SigningKeys, SigningKeysUnavailableError } from './signing-keys.js';

// Everything Keycloak can sign with, minus the HMAC family: a shared secret has no place here.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_S = 30;
const CACHE_LIMIT = 10_000;

export class TokenVerifier {
  readonly keys: SigningKeys;
  private readonly verified = new Map<string, Identity>();

  constructor(private readonly config: AuthConfig, private readonly logger: Logger) {
    this.keys = new SigningKeys({ issuerUrl: config.issuerUrl }, logger);
  }

  /** Fetches the keys ahead of the first request; failure is only logged (the IdP may come up later). */
  warmUp(): void {
    this.keys.refresh(false).catch(() => {});
  }

  /** Verifies an `Authorization` header value. Throws UnauthenticatedError with a reason a person can act on. */
  async authenticate(header: string | undefined): Promise<Identity> {
    if (!header) throw new UnauthenticatedError('Authorization header missing', 'Bearer');
    const space = header.indexOf(' ');
    const scheme = space === -1 ? header : header.slice(0, space);
    const token = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme.toLowerCase() !== 'bearer' || !token) {
      throw new UnauthenticatedError("Authorization header must be 'Bearer <token>'", 'Bearer error="invalid_request"');
    }
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt === undefined || cached.expiresAt + CLOCK_TOLERANCE_S > Date.now() / 1000) return cached;
      this.verified.delete(token);
    }
    const identity = await this.verify(token);
    if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, identity);
    return identity;
  }

  private async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.getKey, {
        algorithms: ALGORITHMS,
        issuer: [...this.config.acceptedIssuers],
        audience: this.config.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      const reason = describe(error);
      this.logger.debug({ reason }, 'token rejected');
      throw new UnauthenticatedError(`Invalid token: ${reason}`);
    }
    if (payload.sub !== undefined && typeof payload.sub !== 'string') {
      throw new UnauthenticatedError("Invalid token: claim 'sub' must be a string");
    }
    return toIdentity(payload);
  }
}

function describe(error: unknown): string {
  if (error instanceof SigningKeysUnavailableError) return error.message;
  if (error instanceof joseErrors.JWTExpired) return 'token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'issuer is not accepted';
      case 'aud':
        return 'audience does not include this gateway';
      case 'nbf':
        return 'token is not valid yet';
      default:
        return `claim '${error.claim}' is invalid`;
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signing algorithm is not allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token is signed with an unknown key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof joseErrors.JOSEError) return 'token is malformed';
  return 'token could not be verified';
}

function toIdentity(payload: JWTPayload): Identity {
  const roles: string[] = [];
  const realm = (payload.realm_access as { roles?: unknown } | undefined)?.roles;
  if (Array.isArray(realm)) roles.push(...realm.filter((r): r is string => typeof r === 'string'));
  const resources = payload.resource_access as Record<string, { roles?: unknown }> | undefined;
  for (const [client, access] of Object.entries(resources ?? {})) {
    if (Array.isArray(access?.roles)) roles.push(...access.roles.filter((r): r is string => typeof r === 'string').map((r) => `${client}:${r}`));
  }
  const azp = typeof payload.azp === 'string' ? payload.azp : undefined;
  return {
    subject: payload.sub ?? azp ?? 'unknown',
    clientId: azp,
    roles,
    claims: payload,
    expiresAt: payload.exp,
  };
}
