/**
 * `npm run bench`: the gateway against the floor (a bare JSON-parsing pass-through proxy) and against
 * the fake upstream directly, each scenario measured right next to the floor so ratios survive a noisy
 * machine. Every server runs in its own process; this process is the load generator.
 *
 * Prints a markdown table to stdout (progress goes to stderr) and writes bench/RESULTS.md and
 * bench/results.json. Missed targets are reported, not fatal; a scenario that errors (non-2xx,
 * unexpected bodies, lost connections, failed streams) makes the exit code 1.
 *
 * Knobs: BENCH_DURATION (s per c=32 run, 3), BENCH_ROUNDS (c=32 rounds, 2), BENCH_LATENCY_DURATION
 * (s per c=1 run, 1), BENCH_LATENCY_ROUNDS (3),
 * BENCH_SSE_ITERATIONS (c=1 streams per target, 300), BENCH_STREAMS (concurrent streams, 1000),
 * BENCH_QUICK=1 (a short smoke run).
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import {
  REST_BODY,
  GQL_BODY,
  restStreamBody,
  gqlStreamBody,
  BENCH,
  ensureBuild,
  load,
  loadProblems,
  median,
  percentile,
  pooled,
  probe,
  rssMB,
  startFloor,
  startGateway,
  startUpstream,
  streamOnce,
  streamPool,
  summary,
  type Child,
  type LoadResult,
  type StreamRun,
  type StreamTarget,
  type Target,
  writeKeepingSections,
} from './lib.js';
import { BURST_CHUNKS, BURST_DELAY_MS, CPU_TARGETS, burstTable, floorOf, runBursts } from './streams.js';

const QUICK = process.env.BENCH_QUICK === '1';
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const D32 = num('BENCH_DURATION', QUICK ? 2 : 3);
const ROUNDS = num('BENCH_ROUNDS', QUICK ? 1 : 2);
const D1 = num('BENCH_LATENCY_DURATION', 1);
const LATENCY_ROUNDS = num('BENCH_LATENCY_ROUNDS', QUICK ? 1 : 3);
const WARMUP = QUICK ? 1 : 2;
const SSE_ITERATIONS = num('BENCH_SSE_ITERATIONS', QUICK ? 60 : 300);
const STREAMS = num('BENCH_STREAMS', QUICK ? 200 : 1000);
const SSE_CHUNKS = 20;

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const ms = (v: number, digits = 3) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : '—');
const fixed = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const problems: string[] = [];
const tick = performance.now();
const elapsed = () => `${((performance.now() - tick) / 1000).toFixed(0)}s`;

// ---------------------------------------------------------------------------------------------
// Requests

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  scenario: string;
  rps: string;
  p50: string;
  p99: string;
  ratio: string;
  target: string;
  met: string;
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  let nproc = String(availableParallelism());
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // availableParallelism is the same number
  }
  let git = 'unknown';
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain -- src package.json', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    git = dirty ? `${head} + uncommitted changes in ${dirty.split('\n').length} file(s) of src/ and package.json` : head;
  } catch {
    // not a git checkout
  }
  return { nproc, cpu: model, node: process.version, date: new Date().toISOString(), git, loadavgStart: loadavg().map((l) => l.toFixed(2)).join(' ') };
}

const yesNo = (ok: boolean, detail = '') => `${ok ? 'yes' : '**no**'}${detail ? ` (${detail})` : ''}`;

async function main() {
  const info = machine();
  log(`machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}, load average ${info.loadavgStart}`);
  const build = ensureBuild(log);
  const fromSource = !build.ok;

  // --- processes -----------------------------------------------------------------------------
  const upstream = await startUpstream();
  const issuer = await startOidcIssuer();
  const token = await issuer.token({}, { expiresIn: '2h' });
  const AUTH = { authorization: `Bearer ${token}` };
  log(`fake upstream ${upstream.url} (pid ${upstream.pid}), issuer ${issuer.issuer}`);

  // Start-up time and idle RSS: from source (tsx) once for reference, then the built gateway.
  const startups: { name: string; startupMs: number; idleRssMB: number }[] = [];
  const measureStart = async (name: string, start: () => Promise<Child>, keep: boolean) => {
    const child = await start();
    await sleep(1000);
    const idle = rssMB(child.pid) ?? NaN;
    startups.push({ name, startupMs: child.startupMs, idleRssMB: idle });
    log(`${name}: listening after ${child.startupMs.toFixed(0)} ms, idle RSS ${idle.toFixed(1)} MB`);
    if (!keep) await child.stop();
    return child;
  };
  if (!fromSource) await measureStart('gateway from source (node --import tsx src/main.ts)', () => startGateway('gw-src', { upstream: upstream.url, fromSource: true, usageDatabaseUrl: 'off' }), false);
  const label = fromSource ? 'gateway (tsx, build failed)' : 'gateway (node dist/main.js)';
  const gwOff = await measureStart(`${label}, auth off`, () => startGateway('gw-off', { upstream: upstream.url, fromSource, usageDatabaseUrl: 'off' }), true);
  const gwOn = await measureStart(`${label}, auth on`, () => startGateway('gw-on', { upstream: upstream.url, issuer: issuer.issuer, fromSource, usageDatabaseUrl: 'off' }), true);
  const gwInfo = await startGateway('gw-info', { upstream: upstream.url, logLevel: 'info', fromSource, usageDatabaseUrl: 'off' });
  const floor = await measureStart('floor (bench/floor.ts)', () => startFloor(upstream.url), true);

  // --- targets -------------------------------------------------------------------------------
  const T = (name: string, server: Child, path: string, headers: Record<string, string>, body: string): Target => ({ name, url: server.url + path, headers, body, pid: server.pid });
  const direct = T('direct upstream', upstream, '/v1/chat/completions', JSON_HEADERS, REST_BODY);
  const floorT = T('floor', floor, '/v1/chat/completions', JSON_HEADERS, REST_BODY);
  const restOff = T('REST JSON, auth off', gwOff, '/v1/chat/completions', JSON_HEADERS, REST_BODY);
  const restOn = T('REST JSON, auth on', gwOn, '/v1/chat/completions', { ...JSON_HEADERS, ...AUTH }, REST_BODY);
  const gqlOn = T('GraphQL mutation, auth on', gwOn, '/graphql', { ...JSON_HEADERS, ...AUTH }, GQL_BODY);
  const gqlOff = T('GraphQL mutation, auth off', gwOff, '/graphql', JSON_HEADERS, GQL_BODY);
  const restInfo = T('REST JSON, auth off, LOG_LEVEL=info', gwInfo, '/v1/chat/completions', JSON_HEADERS, REST_BODY);
  const all = [direct, floorT, restOff, restOn, gqlOn, gqlOff, restInfo];
  // A target that cannot answer one request correctly is reported as an error and left out of the runs.
  const broken = new Map<Target, string>();
  for (const t of all) {
    try {
      t.expectBody = await probe(t);
    } catch (error) {
      if (t === direct || t === floorT) throw error;
      const reason = (error as Error).message.replace(/\s+/g, ' ').slice(0, 300);
      broken.set(t, reason);
      problems.push(`${t.name}: ${reason}`);
      log(`${t.name} is broken, left out: ${reason}`);
    }
  }
  for (const t of all) {
    if (broken.has(t)) continue;
    log(`warm-up ${t.name} (${WARMUP} s)`);
    await load(t, 32, WARMUP);
  }

  const recordLoad = (t: Target, r: LoadResult) => {
    const p = loadProblems(r);
    if (p) {
      problems.push(`${t.name} at c=${r.connections}: ${p}`);
      if (!broken.has(t)) broken.set(t, p);
    }
    log(`${elapsed()} ${t.name} c=${r.connections}: ${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}${p ? ` — ${p}` : ''}`);
    return r;
  };

  // --- throughput at c=32, interleaved: F S1 F S2 F … F, ROUNDS times ---------------------------
  const scenarios32 = [direct, restOff, restOn, gqlOn, gqlOff, restInfo].filter((t) => !broken.has(t));
  const floors32: LoadResult[] = [];
  const res32 = new Map<Target, { runs: LoadResult[]; ratios: number[]; floorCpu: number[] }>(scenarios32.map((s) => [s, { runs: [], ratios: [], floorCpu: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    log(`${elapsed()} throughput at c=32, round ${round + 1}/${ROUNDS}`);
    floors32.push(recordLoad(floorT, await load(floorT, 32, D32)));
    for (const s of scenarios32) {
      const r = recordLoad(s, await load(s, 32, D32));
      const before = floors32.at(-1)!;
      const after = recordLoad(floorT, await load(floorT, 32, D32));
      floors32.push(after);
      res32.get(s)!.runs.push(r);
      res32.get(s)!.ratios.push(r.rps / ((before.rps + after.rps) / 2));
      res32.get(s)!.floorCpu.push((before.cpuUsPerRequest + after.cpuUsPerRequest) / 2);
    }
  }

  // --- latency at c=1, interleaved: (direct, floor, S) per scenario, LATENCY_ROUNDS times -------------
  const scenarios1 = [restOff, restOn, gqlOn, gqlOff, restInfo].filter((t) => !broken.has(t));
  const res1 = new Map<Target, { runs: LoadResult[]; direct: LoadResult[]; floor: LoadResult[] }>(scenarios1.map((s) => [s, { runs: [], direct: [], floor: [] }]));
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    log(`${elapsed()} latency at c=1, round ${round + 1}/${LATENCY_ROUNDS}`);
    for (const s of scenarios1) {
      const entry = res1.get(s)!;
      entry.direct.push(recordLoad(direct, await load(direct, 1, D1)));
      entry.floor.push(recordLoad(floorT, await load(floorT, 1, D1)));
      entry.runs.push(recordLoad(s, await load(s, 1, D1)));
    }
  }

  // --- streams at c=1: time to first chunk and total, round-robin per request -------------------
  const model1 = `openai/stream-${SSE_CHUNKS}-0`;
  const sseTargets: StreamTarget[] = [
    { name: 'direct upstream SSE', url: `${upstream.url}/v1/chat/completions`, headers: SSE_HEADERS, body: restStreamBody(model1), kind: 'rest' },
    { name: 'floor SSE', url: `${floor.url}/v1/chat/completions`, headers: SSE_HEADERS, body: restStreamBody(model1), kind: 'rest' },
    { name: 'REST SSE, auth on', url: `${gwOn.url}/v1/chat/completions`, headers: { ...SSE_HEADERS, ...AUTH }, body: restStreamBody(model1), kind: 'rest' },
    { name: 'GraphQL subscription (SSE), auth on', url: `${gwOn.url}/graphql`, headers: { ...SSE_HEADERS, ...AUTH }, body: gqlStreamBody(model1), kind: 'graphql' },
  ];
  const ssePools = sseTargets.map((t) => streamPool(t.url, 1));
  const sseRuns = sseTargets.map(() => [] as StreamRun[]);
  log(`${elapsed()} streams at c=1: ${SSE_ITERATIONS} × ${SSE_CHUNKS} chunks per target, round-robin`);
  const expected1 = SSE_CHUNKS + 1;
  const sseErrors = sseTargets.map(() => [] as string[]);
  for (let i = 0; i < SSE_ITERATIONS + 30; i++) {
    for (let j = 0; j < sseTargets.length; j++) {
      if (sseErrors[j]!.length >= 5) continue; // broken: stop sending it, report it
      const run = await streamOnce(ssePools[j]!, sseTargets[j]!);
      if (!run.ok || run.chunks !== expected1) sseErrors[j]!.push(run.error ?? `${run.chunks}/${expected1} chunks`);
      else if (i >= 30) sseRuns[j]!.push(run); // the first 30 are warm-up
    }
  }
  sseTargets.forEach((t, j) => {
    const errors = sseErrors[j]!;
    if (errors.length) problems.push(`${t.name} at c=1: ${errors.length} failed stream(s)${errors.length >= 5 ? ' (stopped after 5)' : ''}; first: ${errors[0]!.replace(/\s+/g, ' ').slice(0, 300)}`);
  });
  await Promise.all(ssePools.map((p) => p.close()));
  const sse = sseTargets.map((t, j) => ({
    name: t.name,
    errors: sseErrors[j]!.length,
    ttfc: median(sseRuns[j]!.map((r) => r.ttfc)),
    total: median(sseRuns[j]!.map((r) => r.total)),
    ttfcP99: percentile(Float64Array.from(sseRuns[j]!.map((r) => r.ttfc)).sort(), 0.99),
    ttfcP999: percentile(Float64Array.from(sseRuns[j]!.map((r) => r.ttfc)).sort(), 0.999),
  }));
  for (const s of sse) log(`${s.name}: TTFC median ${ms(s.ttfc)}, total median ${ms(s.total)}`);

  // --- 1,000 concurrent streams × 50 chunks, 20 ms apart: fresh processes, after a warm-up burst (bench/streams.ts)
  await Promise.all([gwOff.stop(), gwOn.stop(), gwInfo.stop(), floor.stop()]);
  const bursts = await runBursts({ upstream, issuer: issuer.issuer, token, fromSource, streams: STREAMS, log: (s) => log(`${elapsed()} ${s}`), problems });
  await upstream.stop();
  await issuer.close();

  // --- the table -----------------------------------------------------------------------------------
  const rows: Row[] = [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const floorAll32 = pooled(floors32);
  rows.push({ scenario: `floor, c=32 (all ${floors32.length} runs)`, rps: fixed(mean(floors32.map((f) => f.rps)), 0), p50: ms(floorAll32.p50), p99: ms(floorAll32.p99), ratio: '1.00', target: '—', met: `runs ${fixed(Math.min(...floors32.map((f) => f.rps)), 0)}–${fixed(Math.max(...floors32.map((f) => f.rps)), 0)} req/s` });
  const errorRow = (t: Target, suffix: string, target?: string) =>
    rows.push({ scenario: `${t.name}, ${suffix}`, rps: '—', p50: '—', p99: '—', ratio: '—', target: target ?? '—', met: `**error**: ${broken.get(t)}` });
  const thr = (t: Target, target?: number) => {
    if (!res32.has(t)) {
      errorRow(t, 'c=32', target ? `≥ ${target}× floor` : undefined);
      return NaN;
    }
    const { runs, ratios } = res32.get(t)!;
    const ratio = mean(ratios);
    const p = pooled(runs);
    rows.push({
      scenario: `${t.name}, c=32`,
      rps: fixed(mean(runs.map((r) => r.rps)), 0),
      p50: ms(p.p50),
      p99: ms(p.p99),
      ratio: `${fixed(ratio)}${ratios.length > 1 ? ` (${ratios.map((x) => fixed(x)).join(', ')})` : ''}`,
      target: target ? `≥ ${target}× floor` : '—',
      met: broken.has(t) ? `**error**: ${broken.get(t)}` : target ? yesNo(ratio >= target) : '—',
    });
    return ratio;
  };
  thr(direct);
  const offRatio = thr(restOff, 0.7);
  thr(restOn, 0.6);
  thr(gqlOn, 0.5);
  thr(gqlOff);
  const infoRatio = thr(restInfo);
  const cpuRows = scenarios32.map((t) => {
    const { runs, floorCpu } = res32.get(t)!;
    const us = mean(runs.map((r) => r.cpuUsPerRequest));
    const f = mean(floorCpu);
    return { scenario: t.name, cpuUsPerRequest: us, floorCpuUsPerRequest: f, ratio: f / us };
  });
  const floorCpuAll = mean(floors32.map((f) => f.cpuUsPerRequest));

  const allDirect1 = [...res1.values()].flatMap((e) => e.direct);
  const allFloor1 = [...res1.values()].flatMap((e) => e.floor);
  const direct1 = pooled(allDirect1);
  const floor1 = pooled(allFloor1);
  rows.push({ scenario: 'direct upstream, c=1 (all runs)', rps: fixed(mean(allDirect1.map((d) => d.rps)), 0), p50: ms(direct1.p50), p99: `${ms(direct1.p99)} / ${ms(direct1.p999)}`, ratio: `${fixed(direct1.p50 / floor1.p50)} (latency)`, target: '—', met: '—' });
  rows.push({ scenario: 'floor, c=1 (all runs)', rps: fixed(mean(allFloor1.map((d) => d.rps)), 0), p50: ms(floor1.p50), p99: `${ms(floor1.p99)} / ${ms(floor1.p999)}`, ratio: '1.00 (latency)', target: '—', met: `adds ${ms(floor1.p50 - direct1.p50)} vs direct` });
  const latency: { scenario: string; p50: number; p99: number; rps: number; directP50: number; floorP50: number; addedVsDirect: number; addedVsFloor: number }[] = [];
  const lat = (t: Target, limit?: number) => {
    if (!res1.has(t)) return void errorRow(t, 'c=1', limit ? `added median ≤ ${limit} ms` : undefined);
    const e = res1.get(t)!;
    const p = pooled(e.runs);
    const d = pooled(e.direct).p50;
    const f = pooled(e.floor).p50;
    const added = p.p50 - d;
    latency.push({ scenario: t.name, p50: p.p50, p99: p.p99, rps: mean(e.runs.map((r) => r.rps)), directP50: d, floorP50: f, addedVsDirect: added, addedVsFloor: p.p50 - f });
    const detail = `adds ${ms(added)} vs direct, ${ms(p.p50 - f)} vs floor`;
    rows.push({
      scenario: `${t.name}, c=1`,
      rps: fixed(mean(e.runs.map((r) => r.rps)), 0),
      p50: ms(p.p50),
      p99: `${ms(p.p99)} / ${ms(p.p999)} (floor ${ms(pooled(e.floor).p99)} / ${ms(pooled(e.floor).p999)})`,
      ratio: `${fixed(p.p50 / f)} (latency)`,
      target: limit ? `added median ≤ ${limit} ms` : '—',
      met: broken.has(t) ? `**error**: ${broken.get(t)}` : limit ? yesNo(added <= limit, detail) : detail,
    });
  };
  lat(restOff, 0.3);
  lat(restOn, 0.3);
  lat(gqlOn, 0.6);
  lat(gqlOff);
  lat(restInfo);

  const [sseDirect, sseFloor, sseRest, sseGql] = sse as [typeof sse[0], typeof sse[0], typeof sse[0], typeof sse[0]];
  const sseRow = (s: typeof sseDirect, limit?: number) => {
    if (s.errors) {
      rows.push({ scenario: `${s.name}, c=1, ${SSE_CHUNKS} chunks: first chunk / total`, rps: '—', p50: '—', p99: '—', ratio: '—', target: limit ? `added first chunk ≤ ${limit} ms` : '—', met: `**error**: ${s.errors} failed stream(s), see Errors` });
      return;
    }
    const addedFirst = s.ttfc - sseDirect.ttfc;
    const addedTotal = s.total - sseDirect.total;
    rows.push({
      scenario: `${s.name}, c=1, ${SSE_CHUNKS} chunks: first chunk / total`,
      rps: '—',
      p50: `${ms(s.ttfc)} / ${ms(s.total)}`,
      p99: `${ms(s.ttfcP99)} / ${ms(s.ttfcP999)} (first)`,
      ratio: `${fixed(s.ttfc / sseFloor.ttfc)} / ${fixed(s.total / sseFloor.total)} (latency)`,
      target: limit ? `added first chunk ≤ ${limit} ms` : '—',
      met: limit
        ? yesNo(addedFirst <= limit, `adds ${ms(addedFirst)} first, ${ms(addedTotal)} total vs direct`)
        : s === sseDirect ? '—' : `adds ${ms(addedFirst)} first, ${ms(addedTotal)} total vs direct`,
    });
  };
  sseRow(sseDirect);
  sseRow(sseFloor);
  sseRow(sseRest, 1);
  sseRow(sseGql, 1);

  const floorBurst = floorOf(bursts);
  for (const b of bursts) {
    const lost = b.expected - b.delivered;
    const gateway = b.name.startsWith('gateway');
    const cpuTarget = CPU_TARGETS[b.name];
    const cpuRatio = b.cpuPerStreamMs / floorBurst.cpuPerStreamMs;
    rows.push({
      scenario: `${STREAMS} streams × ${BURST_CHUNKS} chunks, ${b.name}`,
      rps: '—',
      p50: `${ms(b.ttfcMedian, 1)} (first chunk)`,
      p99: `${ms(b.totalP99, 0)} (stream)`,
      ratio: b.name === 'direct upstream' ? '—' : `CPU/stream ${fixed(cpuRatio)}×, wall ${fixed(b.wallMs / floorBurst.wallMs)}×, RSS ${fixed(b.peakRssMB / floorBurst.peakRssMB)}×`,
      target: gateway ? `0 lost chunks, RSS ≤ 250 MB${cpuTarget ? `, CPU/stream ≤ ${cpuTarget}×` : ''}` : '—',
      met: `${b.failed ? `**error**: ${b.failed} failed streams; ` : ''}${gateway ? yesNo(lost === 0 && b.peakRssMB <= 250 && (!cpuTarget || cpuRatio <= cpuTarget)) + ': ' : ''}${b.delivered}/${b.expected} chunks, wall ${(b.wallMs / 1000).toFixed(2)} s${Number.isFinite(b.peakRssMB) ? `, peak RSS ${b.peakRssMB.toFixed(0)} MB` : ''}${Number.isFinite(b.cpuPerStreamMs) ? `, ${b.cpuPerStreamMs.toFixed(2)} ms CPU/stream` : ''}`,
    });
  }

  const header = '| scenario | req/s | p50 | p99 / p99.9 (c=1) | ratio to floor | target | met? |\n|---|---|---|---|---|---|---|';
  const table = [header, ...rows.map((r) => `| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.ratio} | ${r.target} | ${r.met} |`)].join('\n');
  const startTable = ['| process | start-up (spawn → listening) | idle RSS (1 s after start) |', '|---|---|---|', ...startups.map((s) => `| ${s.name} | ${s.startupMs.toFixed(0)} ms | ${s.idleRssMB.toFixed(1)} MB |`)].join('\n');
  const burstTableMd = burstTable(bursts, STREAMS);
  const loadEnd = loadavg().map((l) => l.toFixed(2)).join(' ');
  const infoCost = 1 - infoRatio / offRatio;
  const md = `# Benchmark results

- Machine: ${info.nproc} cores (\`nproc\`), ${info.cpu}, Node ${info.node}
- Date: ${info.date}; load average at start ${info.loadavgStart}, at end ${loadEnd}
- Code: ${info.git}
- Gateway: ${fromSource ? '`node --import tsx src/main.ts` (the build failed)' : '`node dist/main.js`'}, \`NODE_ENV=${process.env.BENCH_NODE_ENV ?? 'production'}\`, \`LOG_LEVEL=warn\` unless the row says otherwise;
  the usage ledger off for the JSON and c=1 rows (what it costs: the "Usage ledger" section, from bench/ledger.ts), on a Postgres
  server for the bursts
- Load: autocannon in the bench process. c=32: ${ROUNDS} round(s) of floor, S1, floor, S2, …, floor, ${D32} s per run; the ratio
  is the mean over rounds of S ÷ the mean of the floor runs on either side (per-round ratios in brackets). c=1: ${LATENCY_ROUNDS}
  round(s) of (direct, floor, S) per scenario, ${D1} s per run; medians over the pooled samples of S's runs and of the direct
  and floor runs just before them. Latencies are exact per response, not autocannon's 1 ms histogram.
- Streams at c=1: ${SSE_ITERATIONS} requests per target, ${SSE_CHUNKS} chunks with no delay (+ usage chunk), targets round-robin.
- Burst: ${STREAMS} streams opened at once, ${BURST_CHUNKS} chunks ${BURST_DELAY_MS} ms apart + usage chunk; fresh floor/gateway process per path, a warm-up burst
  first; gateways record usage in a Postgres ledger (one row: the embedded PGlite one).

${table}

Logging: \`LOG_LEVEL=info\` (one line per request) costs ${(infoCost * 100).toFixed(0)}% of REST throughput at c=32
(${fixed(infoRatio)}× vs ${fixed(offRatio)}× floor at \`warn\`).

## CPU cost per request (c=32)

User + system CPU time of the serving process ÷ responses, from \`/proc/<pid>/stat\` around each run. Less sensitive to
other load on the machine than req/s: "efficiency" = the adjacent floor runs' CPU per request ÷ the scenario's, i.e. the
throughput ratio the gateway would reach if it had a core to itself.

| process / scenario | CPU per request | floor (adjacent runs) | efficiency vs floor |
|---|---|---|---|
| floor (all runs) | ${fixed(floorCpuAll, 0)} µs | — | 1.00 |
${cpuRows.map((c) => `| ${c.scenario} | ${fixed(c.cpuUsPerRequest, 0)} µs | ${fixed(c.floorCpuUsPerRequest, 0)} µs | ${fixed(c.ratio)} |`).join('\n')}

## Start-up and idle memory

${startTable}

## ${STREAMS} concurrent streams

Each path in a fresh process; a warm-up burst of ${Math.round(STREAMS / 4)} first, then the measured one. CPU per stream is the
server's CPU time for the measured burst ÷ streams, as a ratio to the floor's in the same run (the mean of a floor run
before the gateways and one after them).

${burstTableMd}
${problems.length ? `\n## Errors\n\n${problems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;

  process.stdout.write(`${md}\n`);
  // Sections other benches write into this file (bench/tracing.ts, bench/ledger.ts, …) are kept.
  writeKeepingSections(join(BENCH, 'RESULTS.md'), md);
  writeFileSync(
    join(BENCH, 'results.json'),
    `${JSON.stringify(
      {
        machine: { ...info, loadavgEnd: loadEnd },
        settings: { c32Seconds: D32, rounds: ROUNDS, c1Seconds: D1, latencyRounds: LATENCY_ROUNDS, sseIterations: SSE_ITERATIONS, sseChunks: SSE_CHUNKS, streams: STREAMS, burstChunks: BURST_CHUNKS, burstDelayMs: BURST_DELAY_MS, gateway: fromSource ? 'tsx src/main.ts' : 'node dist/main.js', build },
        rows,
        throughput: {
          floorRuns: floors32.map(summary),
          scenarios: [...res32].map(([t, v]) => ({ scenario: t.name, ratio: mean(v.ratios), ratios: v.ratios, runs: v.runs.map(summary) })),
        },
        latency,
        cpu: { floorCpuUsPerRequest: floorCpuAll, scenarios: cpuRows },
        streams: sse,
        bursts,
        startups,
        logging: { infoRatio, warnRatio: offRatio, throughputCost: infoCost },
        problems,
      },
      null,
      2,
    )}\n`,
  );
  log(`${elapsed()} wrote bench/RESULTS.md and bench/results.json`);
  if (problems.length) {
    log(`${problems.length} scenario error(s):\n${problems.join('\n')}`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((error) => {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
