/**
 * The ledger's writer against each store on its own: records with awkward text (tabs, newlines,
 * backslashes, quotes, unicode, control characters, the literal \N) survive PGlite's COPY path and
 * Postgres's hand-built JSON batch exactly; nulls stay nulls, numbers stay numbers.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { UsageLedger, type UsageRecord } from '../src/ledger/ledger.js';
import { openStore } from '../src/ledger/store.js';
import { createLogger } from '../src/logger.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.close());

const awkward = ['tab\there', 'line\nbreak', 'back\\slash', 'cr\rreturn', '\\N', "quote'\"", 'ünïcödé ✓', '', 'ctl\u0001\u001f', '{"json":[1]}', 'emoji 🚀 \u2028'];

describe.each([
  ['PGlite (COPY)', () => `pglite://${mkdtempSync(join(tmpdir(), 'ledger-store-'))}`],
  ['Postgres (JSON batch)', () => postgres.url],
])('%s', (_name, url) => {
  it('writes awkward text exactly, and reads nulls back as nulls', { timeout: 60_000 }, async () => {
    const databaseUrl = url();
    const { usage } = loadConfig({ USAGE_DATABASE_URL: databaseUrl });
    const written: number[] = [];
    const ledger = new UsageLedger(usage, createLogger('production'), { written: (n) => written.push(n), dropped: () => {} });
    ledger.start();
    const base: UsageRecord = {
      at: new Date('2026-11-30T12:00:00.123Z'), subject: 's', operation: 'chat', provider: 'groq', model: 'm', promptTokens: 1, completionTokens: 2,
      cachedTokens: 0, reasoningTokens: 0, tokensEstimated: false, latencyMs: 1.5, status: 'ok', costUsd: 0.25, priced: true,
    };
    const tag = `run-${Math.random().toString(36).slice(2)}`;
    for (const [i, text] of awkward.entries()) {
      ledger.record({ ...base, subject: text, client: i % 2 ? undefined : text, model: `m${String(i).padStart(2, '0')}`, requestId: tag, ttftMs: i % 3 ? undefined : 2.25 });
    }
    await ledger.close();
    expect(written.reduce((a, b) => a + b, 0)).toBe(awkward.length);
    const store = await openStore(databaseUrl, 2000);
    try {
      const { rows } = await store.query<{ subject: string; client: string | null; ttft_ms: number | null; at: Date; cost_usd: number; prompt_tokens: number }>(
        'select subject, client, ttft_ms, at, cost_usd, prompt_tokens from usage_records where request_id = $1 order by model',
        [tag],
      );
      expect(rows.map((r) => r.subject)).toEqual(awkward);
      expect(rows.map((r) => r.client)).toEqual(awkward.map((t, i) => (i % 2 ? null : t)));
      expect(rows.map((r) => (r.ttft_ms === null ? null : Number(r.ttft_ms)))).toEqual(awkward.map((_, i) => (i % 3 ? null : 2.25)));
      expect(rows.every((r) => Number(r.cost_usd) === 0.25 && Number(r.prompt_tokens) === 1 && new Date(r.at).toISOString() === '2026-11-30T12:00:00.123Z')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('indexes record keys only where set (migration 3)', { timeout: 60_000 }, async () => {
    const store = await openStore(url(), 2000);
    try {
      const { rows } = await store.query<{ indexdef: string }>("select indexdef from pg_indexes where indexname = 'usage_records_record_key'");
      expect(rows).toHaveLength(1);
      expect(rows[0]!.indexdef).toMatch(/UNIQUE INDEX .* \(record_key\) WHERE \(record_key IS NOT NULL\)/);
    } finally {
      await store.close();
    }
  });
});

it('runs the embedded store with small buffers in a database created apart (8 MB shared buffers, not 128 MB)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = await openStore(`pglite://${dir}`, 2000);
  try {
    const { rows } = await store.query<{ shared_buffers: string }>('show shared_buffers');
    expect(rows[0]!.shared_buffers).toBe('8MB');
  } finally {
    await store.close();
  }
  // Created by the short-lived process, opened again by the worker: a real database directory.
  expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
});
