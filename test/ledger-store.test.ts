/**
 * The ledger's writer against the embedded store on its own: records with awkward text (tabs,
 * newlines, backslashes, quotes, unicode, the literal \N) survive PGlite's COPY path exactly, and nulls
 * stay nulls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { UsageLedger, type UsageRecord } from '../src/ledger/ledger.js';
import { openStore } from '../src/ledger/store.js';
import { createLogger } from '../src/logger.js';

it('writes awkward text through COPY exactly, and reads nulls back as nulls', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const { usage } = loadConfig({ USAGE_DATABASE_URL: `pglite://${dir}` });
  const written: number[] = [];
  const ledger = new UsageLedger(usage, createLogger('production'), { written: (n) => written.push(n), dropped: () => {} });
  ledger.start();
  const awkward = ['tab\there', 'line\nbreak', 'back\\slash', 'cr\rreturn', '\\N', "quote'\"", 'ünïcödé ✓', ''];
  const base: UsageRecord = {
    at: new Date('2026-11-30T12:00:00.123Z'), subject: 's', operation: 'chat', provider: 'groq', model: 'm', promptTokens: 1, completionTokens: 2,
    cachedTokens: 0, reasoningTokens: 0, tokensEstimated: false, latencyMs: 1.5, status: 'ok', costUsd: 0.25, priced: true,
  };
  for (const [i, text] of awkward.entries()) ledger.record({ ...base, subject: text, client: i % 2 ? undefined : text, model: `m${i}` });
  await ledger.close();
  expect(written.reduce((a, b) => a + b, 0)).toBe(awkward.length);
  const store = await openStore(`pglite://${dir}`, 2000);
  try {
    const { rows } = await store.query<{ subject: string; client: string | null; ttft_ms: number | null; at: Date; cost_usd: number }>('select subject, client, ttft_ms, at, cost_usd from usage_records order by model');
    expect(rows.map((r) => r.subject)).toEqual(awkward);
    expect(rows.map((r) => r.client)).toEqual(awkward.map((t, i) => (i % 2 ? null : t)));
    expect(rows.every((r) => r.ttft_ms === null && r.cost_usd === 0.25 && new Date(r.at).toISOString() === '2026-11-30T12:00:00.123Z')).toBe(true);
  } finally {
    await store.close();
  }
});
