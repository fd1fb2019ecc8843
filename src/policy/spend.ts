/**
 * Daily spend limits per subject (SPEND_LIMIT_USD_PER_DAY, SPEND_LIMIT_OVERRIDES), per UTC day.
 * Checked before a call, charged after it with the call's cost, in the same kind of store as the
 * per-minute budgets: in memory per replica, or Redis (REDIS_URL) for one limit across replicas.
 * Amounts are kept in micro-dollars, so the stores' integer counters add them exactly.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimitsConfig, UsageConfig } from '../config.js';
import { GatewayError, ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { firstConnection, limitsRedis } from './limits.js';

const MICRO = 1_000_000;
const DAY_MS = 86_400_000;

export class SpendLimitedError extends GatewayError {
  constructor(subject: string, limitUsd: number, retryAfterS: number) {
    super(
      `Spend limit exceeded for '${subject}': $${limitUsd.toFixed(2)} per day; resets in ${duration(retryAfterS)}`,
      429,
      'RATE_LIMITED',
      { limitUsd, retryAfter: retryAfterS, limit: 'usd_per_day' },
      { 'retry-after': String(retryAfterS) },
    );
  }
}

/** Where a subject stands today. */
export interface SpendWindow {
  readonly limitUsd: number;
  readonly spentUsd: number;
  readonly remainingUsd: number;
  /** Until the UTC day turns. */
  readonly resetSeconds: number;
}

export interface SpendEvents {
  limited(subject: string, limit: 'spend'): void;
  storeFailed(open: boolean): void;
}

export class SpendLimits {
  readonly enabled: boolean;
  private readonly spent: RateLimiterAbstract;
  private readonly redis: Redis | undefined;
  private readonly connecting: () => Promise<void> | undefined = () => undefined;
  private lastWarning = 0;

  constructor(private readonly usage: UsageConfig, private readonly limits: LimitsConfig, private readonly logger: Logger, private readonly events: SpendEvents) {
    this.enabled = usage.spendLimitUsdPerDay > 0 || [...usage.spendLimitOverrides.values()].some((usd) => usd > 0);
    // Keys carry the day; they expire a day after it ends.
    const common = { points: Number.MAX_SAFE_INTEGER, duration: 2 * 86_400, keyPrefix: 'gateway:spend' };
    if (limits.redisUrl && this.enabled) {
      this.redis = limitsRedis(limits, (error) => this.warn(error));
      this.connecting = firstConnection(this.redis, limits.redisTimeoutMs);
      this.spent = new RateLimiterRedis({ storeClient: this.redis, rejectIfRedisNotReady: true, ...common });
    } else {
      this.spent = new RateLimiterMemory(common);
    }
  }

  /** USD per day for `subject`; 0 = no limit. */
  limitOf(subject: string): number {
    return this.usage.spendLimitOverrides.get(subject) ?? this.usage.spendLimitUsdPerDay;
  }

  /** Refuses a subject over today's limit. Undefined (nothing to wait for) when no limit applies. */
  admit(subject: string): Promise<SpendWindow | undefined> | undefined {
    if (!this.enabled) return undefined;
    const limit = this.limitOf(subject);
    return limit > 0 ? this.check(subject, limit) : undefined;
  }

  /** Adds a call's cost to today's spend. Never rejects. */
  charge(subject: string, usd: number): Promise<void> | undefined {
    if (!this.enabled || usd <= 0 || this.limitOf(subject) === 0) return undefined;
    return this.spent.penalty(keyOf(subject), Math.round(usd * MICRO)).then(
      () => undefined,
      (error: unknown) => {
        this.warn(error);
        this.events.storeFailed(true);
      },
    );
  }

  /** Where `subject` stands, without spending (for Query.rateLimit). Undefined without a limit. */
  async peek(subject: string): Promise<SpendWindow | undefined> {
    const limit = this.enabled ? this.limitOf(subject) : 0;
    if (limit === 0) return undefined;
    try {
      return windowOf(limit, (await this.spent.get(keyOf(subject)))?.consumedPoints ?? 0);
    } catch (error) {
      this.warn(error);
      throw new ServiceUnavailableError('Rate limit store is unavailable; retry shortly');
    }
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    await this.redis.quit().catch(() => this.redis!.disconnect());
  }

  private async check(subject: string, limit: number): Promise<SpendWindow | undefined> {
    const connecting = this.connecting();
    if (connecting) await connecting;
    let micros: number;
    try {
      micros = (await this.spent.get(keyOf(subject)))?.consumedPoints ?? 0;
    } catch (error) {
      const open = this.limits.failureMode === 'open';
      this.warn(error);
      this.events.storeFailed(open);
      if (!open) throw new ServiceUnavailableError('Rate limit store is unavailable; retry shortly');
      return undefined;
    }
    const window = windowOf(limit, micros);
    if (micros >= Math.round(limit * MICRO)) {
      this.events.limited(subject, 'spend');
      throw new SpendLimitedError(subject, limit, window.resetSeconds);
    }
    return window;
  }

  private warn(error: unknown): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn({ store: this.redis ? 'redis' : 'memory', err: (error as Error)?.message ?? String(error) }, 'spend limit store failed');
  }
}

function keyOf(subject: string): string {
  return `${new Date().toISOString().slice(0, 10)}:${subject}`;
}

function windowOf(limitUsd: number, micros: number): SpendWindow {
  const spentUsd = micros / MICRO;
  return { limitUsd, spentUsd, remainingUsd: Math.max(0, limitUsd - spentUsd), resetSeconds: secondsToMidnight() };
}

function secondsToMidnight(): number {
  const now = Date.now();
  return Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
}

/** 3h12m, 12m, 45s. */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m`;
  return `${seconds}s`;
}
