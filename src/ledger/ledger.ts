/**
 * The usage ledger: one record per provider call (chat, embeddings, images; streams and failures
 * included), written off the request path. `record` only appends to a bounded buffer; a timer
 * writes it in batches. A database that is down or hung costs requests nothing: its batches fail
 * after the statement timeout and stay buffered (past USAGE_BUFFER_SIZE the oldest are dropped and
 * counted), and everything is written once it answers again. `close` (SIGTERM) writes what is left.
 */
import { randomUUID } from 'node:crypto';
import type { UsageConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { openStore, type SqlClient } from './store.js';

export interface UsageRecord {
  readonly at: Date;
  readonly requestId?: string;
  readonly subject: string;
  readonly client?: string;
  readonly operation: string;
  readonly provider: string;
  readonly model: string;
  readonly alias?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  readonly reasoningTokens: number;
  readonly tokensEstimated: boolean;
  readonly latencyMs: number;
  readonly ttftMs?: number;
  /** `ok`, or the gateway error code. */
  readonly status: string;
  readonly costUsd: number;
  readonly priced: boolean;
}

export interface LedgerEvents {
  written(records: number): void;
  dropped(records: number): void;
}

/**
 * A buffered record and its key. A batch whose statement timed out may still have been committed
 * (a hung database runs it once it resumes), so a retry writes the same keys again: the key makes
 * the insert idempotent (`on conflict do nothing`) and no record is counted twice.
 */
/** A record as buffered: its key (for Postgres's duplicate-proof insert) is given when first written. */
type Buffered = UsageRecord & { key?: string };

const BATCH = 500;
const COLUMNS = [
  'at', 'request_id', 'subject', 'client', 'operation', 'provider', 'model', 'alias', 'prompt_tokens', 'completion_tokens',
  'cached_tokens', 'reasoning_tokens', 'tokens_estimated', 'latency_ms', 'ttft_ms', 'status', 'cost_usd', 'priced', 'record_key',
] as const;
/** Longest a statement may take before the writer gives up on it (a hung database). */
const STATEMENT_TIMEOUT_MS = 2000;
/** Between attempts to reach a database that failed. */
const RETRY_MS = 2000;

export class UsageLedger {
  private buffer: Buffered[] = [];
  private store: SqlClient | undefined;
  private opening: Promise<SqlClient> | undefined;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failedAt = 0;
  private lastWarning = 0;
  private closed = false;

  constructor(private readonly config: UsageConfig, private readonly logger: Logger, private readonly events: LedgerEvents) {}

  get enabled(): boolean {
    return this.config.databaseUrl !== undefined;
  }

  /**
   * Starts the writer and opens the store in the background: the gateway serves at once (a new
   * embedded database takes seconds to create), records wait in the buffer until the store is open,
   * and a store that fails to open is retried.
   */
  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => void this.flush().catch(() => {}), this.config.flushIntervalMs);
    this.timer.unref();
    void this.open().catch(() => {});
  }

  /** Resolves once the store is open (or failed to open), for callers that want to wait for it. */
  async ready(): Promise<boolean> {
    if (!this.enabled) return false;
    return this.open().then(
      () => true,
      () => false,
    );
  }

  /** Appends a record; never waits, never throws. */
  record(record: UsageRecord): void {
    if (!this.enabled || this.closed) return;
    this.buffer.push(record);
    if (this.buffer.length > this.config.bufferSize) {
      const over = this.buffer.length - this.config.bufferSize;
      this.buffer.splice(0, over);
      this.events.dropped(over);
    }
    if (this.buffer.length >= BATCH && !this.writing) void this.flush().catch(() => {});
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Writes what is buffered (batch after batch); resolves when written or when the store failed. */
  flush(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** The store for reports, with this replica's buffered records written first. */
  async reader(): Promise<SqlClient> {
    await this.flush();
    return this.store ?? (await this.open());
  }

  /** SIGTERM: stop taking records, write what is left within `deadlineMs`, close the store. */
  async close(deadlineMs = 10_000): Promise<void> {
    if (!this.enabled) return;
    this.closed = true;
    clearInterval(this.timer);
    const deadline = Date.now() + deadlineMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      this.failedAt = 0; // no back-off now: this is the last chance
      await this.flush();
      if (this.buffer.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
    if (this.buffer.length > 0) {
      this.logger.error({ lost: this.buffer.length }, 'usage ledger: database unreachable at shutdown; records lost');
      this.events.dropped(this.buffer.length);
    }
    await this.opening?.catch(() => {});
    await this.store?.close().catch(() => {});
  }

  private open(): Promise<SqlClient> {
    this.opening ??= openStore(this.config.databaseUrl!, STATEMENT_TIMEOUT_MS).then(
      (store) => {
        this.store = store;
        this.logger.info({ store: store.kind }, 'usage ledger ready');
        return store;
      },
      (error: unknown) => {
        this.opening = undefined;
        this.failedAt = Date.now();
        this.warn(error, 'usage ledger: cannot open the database; records are buffered until it answers');
        throw error;
      },
    );
    return this.opening;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      if (this.failedAt && Date.now() - this.failedAt < RETRY_MS) return;
      const store = this.store ?? (await this.open().catch(() => undefined));
      if (!store) return;
      const batch = this.buffer.splice(0, BATCH);
      try {
        if (store.copy) await store.copy(`copy usage_records (${COLUMNS.join(', ')}) from '/dev/blob'`, copyText(batch));
        else await store.query(INSERT_JSON, [jsonRows(batch)]);
        this.failedAt = 0;
        this.events.written(batch.length);
      } catch (error) {
        // Back in front, in order; the bound applies again.
        this.buffer.unshift(...batch);
        if (this.buffer.length > this.config.bufferSize) {
          const over = this.buffer.length - this.config.bufferSize;
          this.buffer.splice(0, over);
          this.events.dropped(over);
        }
        this.failedAt = Date.now();
        this.warn(error, 'usage ledger: writing failed; records stay buffered');
        return;
      }
    }
  }

  /** At most one warning per 10 s. */
  private warn(error: unknown, message: string): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn({ err: (error as Error)?.message ?? String(error), buffered: this.buffer.length }, message);
  }
}

/**
 * Postgres: the batch as one JSON parameter, unpacked by the server (jsonb_to_recordset) — one value
 * to send instead of 19 a record, so the gateway's side of a write costs a JSON.stringify. A batch
 * retried after a timeout may already have been written on a hung connection: record keys make the
 * second insert a no-op.
 */
const INSERT_JSON = `insert into usage_records (${COLUMNS.join(', ')})
  select ${COLUMNS.join(', ')} from jsonb_to_recordset($1::jsonb) as r(
    at timestamptz, request_id text, subject text, client text, operation text, provider text, model text, alias text,
    prompt_tokens integer, completion_tokens integer, cached_tokens integer, reasoning_tokens integer, tokens_estimated boolean,
    latency_ms double precision, ttft_ms double precision, status text, cost_usd double precision, priced boolean, record_key uuid)
  on conflict (record_key) where record_key is not null do nothing`;

function jsonRows(batch: Buffered[]): string {
  // Built field by field, like COPY's text (a row object per record and a generic stringify cost
  // ~4 µs a record; this ~1 µs). Keys stay on the records: a retry of this batch must carry the same.
  let json = '[';
  for (const r of batch) {
    r.key ??= randomUUID();
    if (json.length > 1) json += ',';
    json += `{"at":"${r.at.toISOString()}","request_id":${jstr(r.requestId)},"subject":${jstr(r.subject)},"client":${jstr(r.client)},"operation":${jstr(r.operation)},"provider":${jstr(r.provider)},"model":${jstr(r.model)},"alias":${jstr(r.alias)},"prompt_tokens":${int(r.promptTokens)},"completion_tokens":${int(r.completionTokens)},"cached_tokens":${int(r.cachedTokens)},"reasoning_tokens":${int(r.reasoningTokens)},"tokens_estimated":${r.tokensEstimated ? 'true' : 'false'},"latency_ms":${num(r.latencyMs)},"ttft_ms":${r.ttftMs === undefined ? 'null' : num(r.ttftMs)},"status":${jstr(r.status)},"cost_usd":${num(r.costUsd)},"priced":${r.priced ? 'true' : 'false'},"record_key":"${r.key}"}`;
  }
  return json + ']';
}

const PLAIN_JSON = /^[\w .:/@+=-]*$/;

/** A JSON string value (`null` when absent); common identifiers need no escaping. */
function jstr(value: string | undefined): string {
  if (value === undefined || value === null) return 'null';
  return PLAIN_JSON.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** A finite number as JSON (JSON has no NaN or Infinity). */
function num(value: number): string {
  return Number.isFinite(value) ? String(value) : '0';
}

function int(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value)) : '0';
}

/**
 * A batch in COPY's text format (tab-separated, `\\N` for null): PGlite loads it for ~20 µs of CPU a
 * record where an INSERT costs ~60–150 µs. (A retried batch cannot be doubled there: PGlite answers
 * every statement it ran, unlike a server on a hung connection, which is why INSERT … ON CONFLICT is
 * kept for Postgres.)
 */
function copyText(batch: readonly Buffered[]): string {
  let text = '';
  for (const r of batch) {
    // Field by field, in COLUMNS order (record_key left null: see above).
    text += `${r.at.toISOString()}\t${str(r.requestId)}\t${str(r.subject)}\t${str(r.client)}\t${str(r.operation)}\t${str(r.provider)}\t${str(r.model)}\t${str(r.alias)}\t${r.promptTokens}\t${r.completionTokens}\t${r.cachedTokens}\t${r.reasoningTokens}\t${r.tokensEstimated ? 't' : 'f'}\t${r.latencyMs}\t${r.ttftMs ?? '\\N'}\t${str(r.status)}\t${r.costUsd}\t${r.priced ? 't' : 'f'}\t\\N\n`;
  }
  return text;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A text field for COPY: `\\N` for null, backslash, tab and line breaks escaped. */
function str(value: string | undefined): string {
  if (value === undefined || value === null) return '\\N';
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
