/**
 * The issuer's signing keys: found through OIDC discovery, cached, refreshed in the background when
 * stale, refetched at once (rate-limited) when a token names a key we do not know. Once we have keys
 * we keep them: an identity provider that is down must not lock out tokens it signed earlier.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from '../logger.js';

export interface SigningKeysOptions {
  readonly issuerUrl: string;
  /** Keys older than this are refreshed in the background (the old ones keep serving meanwhile). */
  readonly maxAgeMs?: number;
  /** Least time between two fetches triggered by unknown key ids. */
  readonly cooldownMs?: number;
  readonly timeoutMs?: number;
}

export class SigningKeysUnavailableError extends Error {}
/** The token names a key the issuer does not publish (even after a refetch, or within its cooldown). */
export class UnknownSigningKeyError extends Error {}

const COLD_RETRY_MS = 2_000;

function unavailable(error: unknown): SigningKeysUnavailableError {
  return new SigningKeysUnavailableError(`identity provider's signing keys are unavailable (${(error as Error).message})`);
}

export class SigningKeys {
  /** By key id; undefined until the first successful fetch. */
  private keys: Map<string | undefined, KeyObject> | undefined;
  private fetchedAt = 0;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  /** Refetches for unknown key ids are rate-limited on their own clock, apart from scheduled ones. */
  private lastUnknownKidFetch = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private jwksUri: string | undefined;
  private lastError: Error | undefined;
  private readonly maxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: SigningKeysOptions, private readonly logger: Logger) {
    this.maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /**
   * The public key a token's `kid` names, for REST's verifier and the GraphQL JWT plugin alike.
   * Throws SigningKeysUnavailableError (nothing fetched yet and the IdP does not answer) or
   * UnknownSigningKeyError.
   */
  async keyFor(kid: string | undefined): Promise<KeyObject> {
    if (!this.keys) {
      // Nothing cached and the last try just failed: answer at once instead of hammering a down IdP.
      if (!this.inflight && this.lastError && Date.now() - this.lastAttempt < COLD_RETRY_MS) throw unavailable(this.lastError);
      await this.refresh(true);
    } else if (!this.keys.has(kid) && Date.now() - this.lastUnknownKidFetch >= this.cooldownMs) {
      // A key we have not seen: the issuer may have rotated. Rate-limited, so junk kids cannot hammer it.
      this.lastUnknownKidFetch = Date.now();
      await this.refresh(false).catch(() => {});
    } else if (Date.now() - this.fetchedAt > this.maxAgeMs) {
      void this.refresh(false).catch(() => {});
    }
    const key = this.keys!.get(kid) ?? (kid === undefined && this.keys!.size === 1 ? [...this.keys!.values()][0] : undefined);
    if (!key) throw new UnknownSigningKeyError(kid === undefined ? 'token names no key and the issuer has several' : 'token is signed with an unknown key');
    return key;
  }

  /** True once a key set has been fetched (kept through later outages of the issuer). */
  get loaded(): boolean {
    return this.keys !== undefined;
  }

  /**
   * For readiness: true when keys are at hand. Otherwise starts a fetch (or joins the one running;
   * at most one per COLD_RETRY_MS while the issuer fails), waits for it up to `waitMs`, and tells
   * whether keys are loaded now. Never throws.
   */
  async ensureLoaded(waitMs: number): Promise<boolean> {
    if (this.keys) return true;
    if (this.inflight || Date.now() - this.lastAttempt >= COLD_RETRY_MS) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
      await Promise.race([this.refresh(false).catch(() => {}), waited]);
      clearTimeout(timer);
    }
    return this.keys !== undefined;
  }

  /** Fetches the key set; `required` means there is nothing cached to fall back on. */
  refresh(required: boolean): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return required ? this.inflight.catch((error) => Promise.reject(unavailable(error))) : this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttempt = Date.now();
    try {
      this.jwksUri ??= await this.discover();
      const jwks = await getJson<{ keys?: unknown }>(this.jwksUri, this.timeoutMs);
      if (!Array.isArray(jwks?.keys)) throw new Error('JWKS has no keys array');
      const keys = new Map<string | undefined, KeyObject>();
      for (const jwk of jwks.keys as (JsonWebKey & { kid?: string; use?: string })[]) {
        // Keycloak also publishes an encryption key (use: enc); only signing keys verify tokens.
        if (jwk.use !== undefined && jwk.use !== 'sig') continue;
        try {
          keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
        } catch (error) {
          this.logger.warn({ kid: jwk.kid, kty: jwk.kty, err: (error as Error).message }, 'JWKS key skipped: not a public key this gateway can use');
        }
      }
      this.keys = keys;
      this.fetchedAt = Date.now();
      this.lastError = undefined;
      this.logger.debug({ jwksUri: this.jwksUri, keys: keys.size }, 'signing keys refreshed');
    } catch (error) {
      this.lastError = error as Error;
      this.logger.warn({ issuer: this.options.issuerUrl, err: (error as Error).message }, 'fetching signing keys failed');
      throw error;
    }
  }

  private async discover(): Promise<string> {
    const url = `${this.options.issuerUrl}/.well-known/openid-configuration`;
    const doc = await getJson<{ jwks_uri?: unknown }>(url, this.timeoutMs);
    if (typeof doc?.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return doc.jwks_uri;
  }
}

async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}
