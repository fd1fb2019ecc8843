/**
 * Where the c=1 tail comes from: `npx tsx bench/tail.ts` runs REST JSON and REST SSE at one
 * connection against the floor and against gateways that differ in one thing each — as shipped; a
 * larger young generation (`--max-semi-space-size`, fewer scavenges); metrics off; LOG_LEVEL=info —
 * in alternating rounds, and reports p50 / p99 / p99.9 of each over the pooled samples, with the
 * gateway's GC time per JSON request (V8's GC durations, from the process's own
 * `nodejs_gc_duration_seconds` on /metrics). Prints a markdown table (bench/PROFILE.md quotes it).
 *
 * Knobs: TAIL_ROUNDS (3), TAIL_SECONDS (3 per run).
 */
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { ensureBuild, load, percentile, REST_BODY, restStreamBody, startFloor, startGateway, startUpstream, streamOnce, streamPool, type Child, type LoadResult } from './lib.js';

const ROUNDS = Number(process.env.TAIL_ROUNDS ?? 3);
const SECONDS = Number(process.env.TAIL_SECONDS ?? 3);
const log = (s: string) => process.stderr.write(`[tail] ${s}\n`);
if (!ensureBuild(log).ok) throw new Error('the build failed; this bench measures dist/');

const upstream = await startUpstream();
const issuer = await startOidcIssuer();
const token = await issuer.token({}, { expiresIn: '2h' });
const AUTH = { authorization: `Bearer ${token}` };
const floor = await startFloor(upstream.url);
const configs: { name: string; start: () => Promise<Child> }[] = [
  { name: 'gateway as shipped (auth on)', start: () => startGateway('tail-default', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off' }) },
  {
    name: 'gateway, --max-semi-space-size=32 (MB)',
    start: () => startGateway('tail-semi', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off', nodeFlags: ['--max-semi-space-size=32'] }),
  },
  { name: 'gateway, METRICS_ENABLED=false', start: () => startGateway('tail-nometrics', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off', env: { METRICS_ENABLED: 'false' } }) },
  { name: 'gateway, LOG_LEVEL=info', start: () => startGateway('tail-info', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off', logLevel: 'info' }) },
];
const gateways = await Promise.all(configs.map(async (c) => ({ ...c, child: await c.start() })));

/** GC seconds so far, from the gateway's own prom-client metrics. */
async function gcSeconds(child: Child): Promise<number> {
  const text = await (await fetch(`${child.url}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} ([\d.e+-]+)$/gm)) total += Number(m[1]);
  return total;
}

interface Acc { json: number[]; sse: number[]; requests: number; gc: number }
const acc = new Map<string, Acc>([['floor', { json: [], sse: [], requests: 0, gc: NaN }], ...gateways.map((g) => [g.name, { json: [], sse: [], requests: 0, gc: 0 }] as [string, Acc])]);
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };
const targets = [{ name: 'floor', child: floor, headers: {} as Record<string, string> }, ...gateways.map((g) => ({ name: g.name, child: g.child, headers: AUTH }))];
for (const t of targets) await load({ name: t.name, url: `${t.child.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', ...t.headers }, body: REST_BODY, pid: t.child.pid }, 8, 2);
for (let round = 0; round < ROUNDS; round++) {
  log(`round ${round + 1}/${ROUNDS}`);
  for (const t of targets) {
    const a = acc.get(t.name)!;
    const gcBefore = t.name === 'floor' ? 0 : await gcSeconds(t.child);
    const r: LoadResult = await load({ name: t.name, url: `${t.child.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', ...t.headers }, body: REST_BODY, pid: t.child.pid }, 1, SECONDS);
    a.json.push(...r.samples);
    a.requests += r.requests;
    if (t.name !== 'floor') a.gc += (await gcSeconds(t.child)) - gcBefore;
    const pool = streamPool(`${t.child.url}/v1/chat/completions`, 1);
    const target = { name: t.name, url: `${t.child.url}/v1/chat/completions`, headers: { ...SSE_HEADERS, ...t.headers }, body: restStreamBody('openai/stream-20-0'), kind: 'rest' as const };
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      const run = await streamOnce(pool, target);
      if (run.ok) a.sse.push(run.ttfc);
    }
    await pool.close();
  }
}
const fmt = (xs: number[]) => {
  const s = Float64Array.from(xs).sort();
  return `${percentile(s, 0.5).toFixed(3)} / ${percentile(s, 0.99).toFixed(3)} / ${percentile(s, 0.999).toFixed(3)} ms`;
};
const lines = [
  `Node ${process.version}, ${new Date().toISOString()}; ${ROUNDS} rounds of ${SECONDS} s per target and kind, targets alternating; ledger off.`,
  '',
  '| target | REST JSON c=1: p50 / p99 / p99.9 | REST SSE c=1, first chunk: p50 / p99 / p99.9 | GC time per JSON request |',
  '|---|---|---|---|',
  ...[...acc].map(([name, a]) => `| ${name} | ${fmt(a.json)} | ${fmt(a.sse)} | ${Number.isFinite(a.gc) ? `${((a.gc * 1e6) / a.requests).toFixed(1)} µs` : '—'} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
await Promise.all([...gateways.map((g) => g.child.stop()), floor.stop(), upstream.stop(), issuer.close()]);
process.exit(0);
