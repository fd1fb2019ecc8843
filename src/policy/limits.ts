/**
 * Per-subject budgets: requests per minute and tokens per minute, counted in one-minute windows.
 * In memory (one replica) by default; in Redis when `REDIS_URL` is set, so every replica draws on
 * one budget (rate-limiter-flexible: one atomic Lua increment per check). Tokens are charged after
 * the fact from the usage the provider reports, so a subject over its token budget is refused from
 * its next request until the window turns.
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Identity } from '../auth/identity.js';
import type { LimitsConfig } from '../config.js';
import { GatewayError, ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';

const WINDOW_S = 60;
/** The stores count without a ceiling; each subject's own limit is compared here. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

export class RateLimitedError extends GatewayError {
  constructor(subject: string, limit: 'requests' | 'tokens', perMinute: number, retryAfterS: number) {
    super(
      `Rate limit exceeded for '${subject}': ${perMinute} ${limit} per minute; retry in ${retryAfterS}s`,
      429,
      'RATE_LIMITED',
      { retryAfter: retryAfterS, limit: `${limit}_per_minute` },
      { 'retry-after': String(retryAfterS) },
    );
  }
}

/** Where a subject stands in one budget for the current window (for `x-ratelimit-*` headers). */
export interface BudgetWindow {
  readonly limit: number;
  readonly remaining: number;
  /** Until the window turns, whole seconds rounded up. */
  readonly resetSeconds: number;
}

export interface BudgetState {
  requests?: BudgetWindow;
  tokens?: BudgetWindow;
}

export interface LimitEvents {
  /** A request refused for being over budget. */
  limited(subject: string, limit: 'requests' | 'tokens'): void;
  /** The shared store failed; `open` tells whether the request went through anyway. */
  storeFailed(open: boolean): void;
}

/**
 * Until a client has connected once, checks wait for it (at most REDIS_TIMEOUT): a replica that has
 * just started must not serve its first requests unbudgeted while its connection is still being made.
 * Later outages are answered at once by the failure mode, as before.
 */
export function firstConnection(redis: Redis, timeoutMs: number): () => Promise<void> | undefined {
  let connected = redis.status === 'ready';
  redis.once('ready', () => (connected = true));
  const waiting = new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  return () => {
    if (connected) return undefined;
    return Promise.race([waiting, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  };
}

/** The Redis client a limits store uses (per-minute budgets, daily spend): never queues a check while Redis is away. */
export function limitsRedis(config: LimitsConfig, onError: (error: Error) => void): Redis {
  const redis = new Redis(config.redisUrl!, {
    // Fail at once and let the failure mode decide.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(config.redisTimeoutMs, 1000),
    commandTimeout: config.redisTimeoutMs || undefined,
    // Keep trying to reconnect in the background, at most every 2 s.
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
  redis.on('error', onError);
  return redis;
}

function windowOf(limit: number, used: RateLimiterRes | null): BudgetWindow {
  if (!used) return { limit, remaining: limit, resetSeconds: WINDOW_S };
  return { limit, remaining: Math.max(0, limit - used.consumedPoints), resetSeconds: Math.max(0, Math.ceil(used.msBeforeNext / 1000)) };
}

export class RateLimits {
  /** Whether any budget is configured; when not, checks cost nothing. */
  readonly enabled: boolean;
  readonly store: 'memory' | 'redis';
  private readonly requests: RateLimiterAbstract;
  private readonly tokens: RateLimiterAbstract;
  private readonly redis: Redis | undefined;
  private readonly connecting: () => Promise<void> | undefined = () => undefined;
  private lastStoreWarning = 0;

  constructor(private readonly config: LimitsConfig, private readonly logger: Logger, private readonly events: LimitEvents) {
    const anyOverride = [...config.overrides.values()].some((o) => (o.rpm ?? 0) > 0 || (o.tpm ?? 0) > 0);
    this.enabled = config.requestsPerMinute > 0 || config.tokensPerMinute > 0 || anyOverride;
    this.store = config.redisUrl ? 'redis' : 'memory';
    const common = { points: UNBOUNDED, duration: WINDOW_S };
    if (config.redisUrl && this.enabled) {
      this.redis = limitsRedis(config, (error) => this.warnStore(error));
      this.connecting = firstConnection(this.redis, config.redisTimeoutMs);
      this.redis.on('ready', () => logger.info({ store: 'redis' }, 'rate limit store connected'));
      const redis = { storeClient: this.redis, rejectIfRedisNotReady: true, ...common };
      this.requests = new RateLimiterRedis({ ...redis, keyPrefix: 'gateway:rpm' });
      this.tokens = new RateLimiterRedis({ ...redis, keyPrefix: 'gateway:tpm' });
    } else {
      this.requests = new RateLimiterMemory({ ...common, keyPrefix: 'rpm' });
      this.tokens = new RateLimiterMemory({ ...common, keyPrefix: 'tpm' });
    }
  }

  /** Whether the shared store is connected (always true in memory). */
  get connected(): boolean {
    return this.redis ? this.redis.status === 'ready' : true;
  }

  /** The name a budget is kept under: the OAuth client (`azp`) or the token's `sub`; `anonymous` without auth. */
  subjectOf(identity: Identity | null): string {
    if (!identity) return 'anonymous';
    return this.config.subjectClaim === 'azp' ? (identity.clientId ?? identity.subject) : identity.subject;
  }

  /** The budgets that apply to `subject` (0 = unlimited). */
  budgetOf(subject: string): { rpm: number; tpm: number } {
    const override = this.config.overrides.get(subject);
    return {
      rpm: override?.rpm ?? this.config.requestsPerMinute,
      tpm: override?.tpm ?? this.config.tokensPerMinute,
    };
  }

  /**
   * Counts one request against `subject`'s budget, or rejects with RateLimitedError when it is spent.
   * Resolves to where the subject stands (undefined when the store could not say, failing open).
   * Undefined (nothing to wait for) when no budget applies: the common case costs no promise.
   */
  admit(subject: string): Promise<BudgetState | undefined> | undefined {
    if (!this.enabled) return undefined;
    const { rpm, tpm } = this.budgetOf(subject);
    if (rpm === 0 && tpm === 0) return undefined;
    return this.check(subject, rpm, tpm);
  }

  private async check(subject: string, rpm: number, tpm: number): Promise<BudgetState | undefined> {
    const state: BudgetState = {};
    const connecting = this.connecting();
    if (connecting) await connecting;
    try {
      // Tokens first, read-only: a request refused for tokens doesn't use up a request.
      if (tpm > 0) {
        const used = await this.tokens.get(subject);
        if (used && used.consumedPoints >= tpm) this.refuse(subject, 'tokens', tpm, used);
        state.tokens = windowOf(tpm, used);
      }
      if (rpm > 0) {
        const used = await this.requests.consume(subject, 1);
        if (used.consumedPoints > rpm) this.refuse(subject, 'requests', rpm, used);
        state.requests = windowOf(rpm, used);
      }
      return state;
    } catch (error) {
      if (error instanceof RateLimitedError) throw error;
      this.storeFailure(error);
      return undefined;
    }
  }

  /** Where `subject` stands, without counting anything. Throws 503 when the store cannot say. */
  async peek(subject: string): Promise<BudgetState> {
    const state: BudgetState = {};
    if (!this.enabled) return state;
    const { rpm, tpm } = this.budgetOf(subject);
    try {
      if (rpm > 0) state.requests = windowOf(rpm, await this.requests.get(subject));
      if (tpm > 0) state.tokens = windowOf(tpm, await this.tokens.get(subject));
    } catch (error) {
      this.warnStore(error);
      throw new ServiceUnavailableError('Rate limit store is unavailable; retry shortly');
    }
    return state;
  }

  /**
   * Charges tokens a provider reported (or the gateway estimated) to `subject`; resolves to the token
   * budget after the charge. Never rejects; undefined when nothing is charged.
   */
  charge(subject: string, tokens: number): Promise<BudgetWindow | undefined> | undefined {
    if (!this.enabled || tokens <= 0) return undefined;
    const { tpm } = this.budgetOf(subject);
    return tpm === 0 ? undefined : this.penalise(subject, tokens, tpm);
  }

  private async penalise(subject: string, tokens: number, tpm: number): Promise<BudgetWindow | undefined> {
    try {
      return windowOf(tpm, await this.tokens.penalty(subject, Math.ceil(tokens)));
    } catch (error) {
      // The answer has been given already; a lost charge is logged, not turned into an error.
      this.warnStore(error);
      this.events.storeFailed(true);
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private refuse(subject: string, limit: 'requests' | 'tokens', perMinute: number, used: RateLimiterRes): never {
    this.events.limited(subject, limit);
    throw new RateLimitedError(subject, limit, perMinute, Math.max(1, Math.ceil(used.msBeforeNext / 1000)));
  }

  private storeFailure(error: unknown): void {
    const open = this.config.failureMode === 'open';
    this.warnStore(error);
    this.events.storeFailed(open);
    if (!open) throw new ServiceUnavailableError('Rate limit store is unavailable; retry shortly');
  }

  /** At most one warning per 10 s: a Redis outage must not flood the logs. */
  private warnStore(error: unknown): void {
    const now = Date.now();
    if (now - this.lastStoreWarning < 10_000) return;
    this.lastStoreWarning = now;
    const message = (error as Error)?.message ?? String(error);
    this.logger.warn({ store: this.store, err: message, failureMode: this.config.failureMode }, 'rate limit store failed');
  }
}
