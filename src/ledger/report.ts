/** Usage reports: the ledger's records summed by the dimensions asked for, over a time range. */
import { BadRequestError } from '../errors.js';
import type { SqlClient } from './store.js';

export type Dimension = 'subject' | 'client' | 'provider' | 'model' | 'day' | 'hour';

export interface UsageRow {
  subject?: string | null;
  client?: string | null;
  provider?: string | null;
  model?: string | null;
  period?: Date | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
}

export interface ReportQuery {
  from: Date;
  to: Date;
  groupBy: readonly Dimension[];
  /** Only this subject's records; undefined: everyone's. */
  subject?: string;
}

/** More rows than any screen shows: the caller should narrow the range or the grouping. */
export const MAX_ROWS = 10_000;

const COLUMN: Record<Dimension, string> = {
  subject: 'subject',
  client: 'client',
  provider: 'provider',
  model: 'model',
  day: "date_trunc('day', at at time zone 'UTC') at time zone 'UTC'",
  hour: "date_trunc('hour', at at time zone 'UTC') at time zone 'UTC'",
};

const SUMS = `count(*)::float8 as requests,
  count(*) filter (where status <> 'ok')::float8 as errors,
  coalesce(sum(prompt_tokens), 0)::float8 as prompt_tokens,
  coalesce(sum(completion_tokens), 0)::float8 as completion_tokens,
  coalesce(sum(cached_tokens), 0)::float8 as cached_tokens,
  coalesce(sum(reasoning_tokens), 0)::float8 as reasoning_tokens,
  coalesce(sum(cost_usd), 0)::float8 as cost_usd`;

/**
 * Bounds sent to the database: years 1 to 9999. PGlite takes a Date parameter as its ISO string,
 * which it refuses for year 0 and before (`0000-…`, `-000001-…`) and after 9999 (`+010000-…`);
 * no record lies outside them, so narrowing the range changes no report.
 */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const bounded = (date: Date) => new Date(Math.min(Math.max(date.getTime(), EARLIEST), LATEST));

export async function usageReport(store: SqlClient, query: ReportQuery): Promise<{ rows: UsageRow[]; total: UsageRow }> {
  const dims = [...new Set(query.groupBy)];
  if (dims.includes('day') && dims.includes('hour')) throw new BadRequestError('groupBy: choose DAY or HOUR, not both');
  if (!(query.from.getTime() < query.to.getTime())) throw new BadRequestError('from must be before to');
  // Postgres text cannot hold NUL: no subject has one, and the database would refuse the parameter.
  if (query.subject?.includes('\u0000')) throw new BadRequestError('subject must not contain NUL characters');
  const params: unknown[] = [bounded(query.from), bounded(query.to)];
  let where = 'at >= $1 and at < $2';
  if (query.subject !== undefined) {
    params.push(query.subject);
    where += ' and subject = $3';
  }
  const selected = dims.map((d) => `${COLUMN[d]} as ${d === 'day' || d === 'hour' ? 'period' : d}`);
  const grouped = dims.map((_, i) => String(i + 1));
  const rowsSql = dims.length
    ? `select ${[...selected, SUMS].join(', ')} from usage_records where ${where} group by ${grouped.join(', ')} order by ${grouped.join(', ')} limit ${MAX_ROWS + 1}`
    : undefined;
  const [rows, total] = await Promise.all([
    rowsSql ? store.query<Record<string, unknown>>(rowsSql, params) : Promise.resolve({ rows: [] }),
    store.query<Record<string, unknown>>(`select ${SUMS} from usage_records where ${where}`, params),
  ]);
  if (rows.rows.length > MAX_ROWS) throw new BadRequestError(`The report has more than ${MAX_ROWS} rows: narrow the time range or group by fewer dimensions`);
  return { rows: rows.rows.map(toRow), total: toRow(total.rows[0] ?? {}) };
}

function toRow(r: Record<string, unknown>): UsageRow {
  const row: UsageRow = {
    requests: Number(r.requests) || 0,
    errors: Number(r.errors) || 0,
    promptTokens: Number(r.prompt_tokens) || 0,
    completionTokens: Number(r.completion_tokens) || 0,
    cachedTokens: Number(r.cached_tokens) || 0,
    reasoningTokens: Number(r.reasoning_tokens) || 0,
    costUsd: Number(r.cost_usd) || 0,
  };
  for (const key of ['subject', 'client', 'provider', 'model'] as const) if (key in r) row[key] = (r[key] as string | null) ?? null;
  if ('period' in r) row.period = r.period ? new Date(r.period as string | Date) : null;
  return row;
}
