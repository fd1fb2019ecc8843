/**
 * The 1,000-stream burst, the part of `npm run bench` that streaming efficiency is judged by; also
 * runnable alone (`npx tsx bench/streams.ts`, writes bench/STREAMS.md) while working on the stream
 * path.
 *
 * Each path gets a fresh server process. A warm-up burst (a quarter of the streams) runs first, so
 * the measured burst sees optimised code rather than the JIT's first minutes; then STREAMS streams
 * are opened at once, each 50 chunks 20 ms apart + a usage chunk. Reported per path: chunks
 * delivered (every one must arrive), failed streams, wall time, time to first chunk, idle and peak
 * RSS, and the server's CPU time for the measured burst ÷ streams — as a ratio to the floor's (a bare
 * pass-through proxy, bench/floor.ts) in the same run: the mean of a floor run before the gateways and
 * one after them.
 *
 * Paths: the upstream directly, the floor, REST SSE (auth on), REST SSE with auth and budgets on
 * (request and token budgets in Redis, as production runs), GraphQL subscriptions over SSE and over
 * WebSocket (one socket per stream, graphql-transport-ws), both auth on. Every gateway records its
 * calls in the usage ledger on a Postgres server (as replicas in production do); one more REST row
 * uses the embedded ledger (PGlite, the single-replica default) to show what it costs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import {
  BENCH,
  cpuMs,
  ensureBuild,
  gqlStreamBody,
  median,
  percentile,
  restStreamBody,
  rssMB,
  sampleRss,
  startFloor,
  startGateway,
  startUpstream,
  streamOnce,
  streamPool,
  type Child,
  type StreamTarget,
} from './lib.js';

export const BURST_CHUNKS = 50;
export const BURST_DELAY_MS = 20;
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };

export interface Burst {
  name: string;
  delivered: number;
  expected: number;
  failed: number;
  wallMs: number;
  ttfcMedian: number;
  totalP99: number;
  idleRssMB: number;
  peakRssMB: number;
  /** CPU time of the server for the measured burst (after the warm-up one). */
  cpuMs: number;
  cpuPerStreamMs: number;
  firstError?: string;
}

export interface BurstOptions {
  upstream: Child;
  /** An OIDC issuer URL and a token it signed: auth on for the gateway paths. */
  issuer: string;
  token: string;
  fromSource: boolean;
  streams: number;
  log(s: string): void;
  problems: string[];
}

/** Runs every burst path; returns them in order (direct, floor, then the gateway's). */
export async function runBursts(o: BurstOptions): Promise<Burst[]> {
  const { upstream, streams: STREAMS, log } = o;
  const AUTH = { authorization: `Bearer ${o.token}` };
  const model = `openai/stream-${BURST_CHUNKS}-${BURST_DELAY_MS}`;
  const bursts: Burst[] = [];
  const one = async (name: string, target: Omit<StreamTarget, 'name'>, child?: Child) => {
    const many = (n: number) => {
      const pool = target.kind === 'graphql-ws' ? undefined : streamPool(target.url, n + 16);
      return Promise.all(Array.from({ length: n }, () => streamOnce(pool, { name, ...target }))).finally(() => pool?.close());
    };
    // Warm-up: the JIT, the connection machinery, the heap's first growth — and the usage ledger's
    // database open and written to (a new embedded one takes seconds of CPU to create).
    await many(Math.max(1, Math.round(STREAMS / 4)));
    for (let i = 0; child && name.startsWith('gateway') && i < 120; i++) {
      if (/gateway_usage_records_written_total [1-9]/.test(await (await fetch(`${child.url}/metrics`)).text())) break;
      await sleep(500);
    }
    await sleep(500);
    const idle = child ? rssMB(child.pid) ?? NaN : NaN;
    const sampler = child ? sampleRss(child.pid, 50) : undefined;
    const cpuBefore = child ? cpuMs(child.pid) : NaN;
    const started = performance.now();
    const runs = await many(STREAMS);
    const wallMs = performance.now() - started;
    const peak = sampler?.stop() ?? NaN;
    const cpu = child ? cpuMs(child.pid) - cpuBefore : NaN;
    const failed = runs.filter((r) => !r.ok);
    const b: Burst = {
      name,
      delivered: runs.reduce((n, r) => n + r.chunks, 0),
      expected: STREAMS * (BURST_CHUNKS + 1),
      failed: failed.length,
      wallMs,
      ttfcMedian: median(runs.map((r) => r.ttfc).filter(Number.isFinite)),
      totalP99: percentile(Float64Array.from(runs.map((r) => r.total)).sort(), 0.99),
      idleRssMB: idle,
      peakRssMB: peak,
      cpuMs: cpu,
      cpuPerStreamMs: cpu / STREAMS,
      ...(failed[0]?.error ? { firstError: failed[0].error } : {}),
    };
    if (b.failed) o.problems.push(`${name}: ${b.failed}/${STREAMS} streams failed (first: ${b.firstError?.replace(/\s+/g, ' ').slice(0, 300)})`);
    log(
      `${name}: ${b.delivered}/${b.expected} chunks, ${b.failed} failed, wall ${(wallMs / 1000).toFixed(2)} s, ` +
        `CPU ${(cpu / STREAMS).toFixed(2)} ms/stream, RSS idle ${idle.toFixed(1)} MB → peak ${peak.toFixed(1)} MB`,
    );
    bursts.push(b);
  };
  const postgres = await startPostgres();
  const gateway = async (name: string, run: (g: Child) => Promise<void>, env?: Record<string, string>, usageDatabaseUrl = postgres.url) => {
    const g = await startGateway(name, { upstream: upstream.url, issuer: o.issuer, fromSource: o.fromSource, usageDatabaseUrl, ...(env ? { env } : {}) });
    try {
      await run(g);
    } finally {
      await g.stop();
    }
  };

  log(`${STREAMS} concurrent streams × ${BURST_CHUNKS} chunks, ${BURST_DELAY_MS} ms apart (after a warm-up burst of ${Math.round(STREAMS / 4)})`);
  await one('direct upstream', { url: `${upstream.url}/v1/chat/completions`, headers: SSE_HEADERS, body: restStreamBody(model), kind: 'rest' });
  {
    const f = await startFloor(upstream.url);
    await one('floor', { url: `${f.url}/v1/chat/completions`, headers: SSE_HEADERS, body: restStreamBody(model), kind: 'rest' }, f);
    await f.stop();
  }
  await gateway('gw-burst-rest', (g) => one('gateway REST SSE, auth on', { url: `${g.url}/v1/chat/completions`, headers: { ...SSE_HEADERS, ...AUTH }, body: restStreamBody(model), kind: 'rest' }, g));
  {
    const redis = await startRedis();
    try {
      await gateway(
        'gw-burst-budgets',
        (g) => one('gateway REST SSE, auth on, budgets on (Redis)', { url: `${g.url}/v1/chat/completions`, headers: { ...SSE_HEADERS, ...AUTH }, body: restStreamBody(model), kind: 'rest' }, g),
        { REDIS_URL: redis.url, RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000', RATE_LIMIT_TOKENS_PER_MINUTE: '1000000000' },
      );
    } finally {
      await redis.close();
    }
  }
  await gateway(
    'gw-burst-pglite',
    (g) => one('gateway REST SSE, auth on, embedded ledger (PGlite)', { url: `${g.url}/v1/chat/completions`, headers: { ...SSE_HEADERS, ...AUTH }, body: restStreamBody(model), kind: 'rest' }, g),
    undefined,
    `pglite://${mkdtempSync(join(tmpdir(), 'bench-ledger-'))}`,
  );
  await gateway('gw-burst-gql', (g) => one('gateway GraphQL subscription (SSE), auth on', { url: `${g.url}/graphql`, headers: { ...SSE_HEADERS, ...AUTH }, body: gqlStreamBody(model), kind: 'graphql' }, g));
  await gateway('gw-burst-ws', (g) =>
    one('gateway GraphQL subscription (WebSocket), auth on', { url: `${g.url.replace(/^http/, 'ws')}/graphql`, headers: AUTH, body: gqlStreamBody(model), kind: 'graphql-ws' }, g),
  );
  // The floor once more, last: its CPU per stream moves by ±15% between runs on a busy machine, and
  // every ratio divides by it — so ratios use the mean of a run before and a run after the gateways.
  {
    const f = await startFloor(upstream.url);
    await one('floor, again after the gateways', { url: `${f.url}/v1/chat/completions`, headers: SSE_HEADERS, body: restStreamBody(model), kind: 'rest' }, f);
    await f.stop();
  }
  await postgres.close();
  return bursts;
}

/** The floor the ratios divide by: the mean of its runs before and after the gateways. */
export function floorOf(bursts: Burst[]): Pick<Burst, 'cpuPerStreamMs' | 'wallMs' | 'peakRssMB'> {
  const floors = bursts.filter((b) => b.name.startsWith('floor'));
  const mean = (pick: (b: Burst) => number) => floors.reduce((sum, b) => sum + pick(b), 0) / floors.length;
  return { cpuPerStreamMs: mean((b) => b.cpuPerStreamMs), wallMs: mean((b) => b.wallMs), peakRssMB: mean((b) => b.peakRssMB) };
}

/** Targets the issue sets for the gateway's paths: CPU per stream ÷ the floor's. */
export const CPU_TARGETS: Record<string, number> = {
  'gateway REST SSE, auth on': 2,
  'gateway GraphQL subscription (SSE), auth on': 3,
};

export function burstTable(bursts: Burst[], streams: number): string {
  const floor = bursts.some((b) => b.name === 'floor') ? floorOf(bursts) : undefined;
  const fixed = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  const mb = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : '—');
  const lines = [
    `| path (${streams} streams × ${BURST_CHUNKS + 1} chunks) | chunks delivered | failed | wall (× floor) | first chunk (median) | idle → peak RSS | CPU per stream (× floor) | targets | met? |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const b of bursts) {
    const gw = b.name.startsWith('gateway');
    const cpuRatio = floor ? b.cpuPerStreamMs / floor.cpuPerStreamMs : NaN;
    const cpuTarget = CPU_TARGETS[b.name];
    const targets = gw ? ['0 lost', 'peak RSS ≤ 250 MB', ...(cpuTarget ? [`CPU ≤ ${cpuTarget}×`] : [])].join(', ') : '—';
    const ok = b.delivered === b.expected && b.failed === 0 && b.peakRssMB <= 250 && (!cpuTarget || cpuRatio <= cpuTarget);
    lines.push(
      `| ${b.name} | ${b.delivered} / ${b.expected} | ${b.failed} | ${(b.wallMs / 1000).toFixed(2)} s${floor && !b.name.startsWith('floor') ? ` (${fixed(b.wallMs / floor.wallMs)}×)` : ''} | ` +
        `${fixed(b.ttfcMedian, 1)} ms | ${mb(b.idleRssMB)} → ${mb(b.peakRssMB)} | ` +
        `${Number.isFinite(b.cpuPerStreamMs) ? `${b.cpuPerStreamMs.toFixed(2)} ms (${fixed(cpuRatio)}×)` : '—'} | ${targets} | ${gw ? (ok ? 'yes' : '**no**') : '—'} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const log = (s: string) => process.stderr.write(`[streams] ${s}\n`);
  const build = ensureBuild(log);
  const upstream = await startUpstream();
  const issuer = await startOidcIssuer();
  const token = await issuer.token({}, { expiresIn: '2h' });
  const problems: string[] = [];
  const streams = Number(process.env.BENCH_STREAMS ?? 1000);
  const bursts = await runBursts({ upstream, issuer: issuer.issuer, token, fromSource: !build.ok, streams, log, problems });
  await upstream.stop();
  await issuer.close();
  const md = `# Streams (bench/streams.ts)\n\nNode ${process.version}, ${new Date().toISOString()}\n\n${burstTable(bursts, streams)}\n${problems.length ? `\n${problems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;
  process.stdout.write(`${md}\n`);
  writeFileSync(join(BENCH, 'STREAMS.md'), md);
  process.exit(problems.length ? 1 : 0);
}
