/**
 * What the usage ledger costs: `npx tsx bench/ledger.ts` runs three built gateways (dist/) side by
 * side — ledger off, on a real Postgres server (Debian's, started like the tests do) and on the
 * embedded PGlite — and loads them in turn, in short slots (off, Postgres, PGlite, off, …), so noise
 * from anything else on the machine falls on all three alike; each cycle's req/s are compared with
 * the ledger-off gateway's in the same cycle, and the median of those ratios is reported. CPU per
 * request is each gateway's CPU over the whole measured run ÷ its responses, split into the
 * event-loop thread and every other thread (PGlite's worker, GC helpers), from
 * /proc/<pid>/task/<tid>/stat — it includes the writer's batches, whenever they ran.
 *
 * On a machine with two or more cores the gateways are pinned to the last core (`taskset`) and
 * everything else — this process's load generator, the fake upstream, the Postgres server — to the
 * others, so throughput measures the gateway's own CPU (PGlite's worker included) rather than a
 * fight for cores with the database and the load.
 *
 * Knobs: LEDGER_CYCLES (12), LEDGER_SLOT_SECONDS (2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startPostgres } from '../test/helpers/postgres.js';
import { REST_BODY, ROOT, startUpstream, writeSection } from './lib.js';

const CYCLES = Number(process.env.LEDGER_CYCLES ?? 12);
const SLOT = Number(process.env.LEDGER_SLOT_SECONDS ?? 2);
const load = (port: number, connections: number, options: { duration?: number; amount?: number }) =>
  autocannon({ url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body: REST_BODY, connections, ...options });

/** CPU ms of `pid`: its main (event-loop) thread and all its other threads. */
function cpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    if (tid === String(pid)) main += ms;
    else other += ms;
  }
  return { main, other };
}

const cores = availableParallelism();
const pinned = cores >= 2 && spawnSync('taskset', ['-p', '-c', `0-${cores - 2}`, String(process.pid)]).status === 0;
console.error(pinned ? `[ledger] gateways on core ${cores - 1}; load, upstream and Postgres on cores 0-${cores - 2}` : '[ledger] not pinned (one core, or no taskset)');
const upstream = await startUpstream();
const postgres = await startPostgres();

interface Gateway {
  name: string;
  port: number;
  proc: ChildProcess;
  rps: number[];
  requests: number;
  start: { main: number; other: number };
}
const configs = [
  ['off', 'off'],
  ['Postgres server', postgres.url],
  ['PGlite (embedded)', `pglite://${mkdtempSync(join(tmpdir(), 'bench-ledger-'))}`],
] as const;
const gateways: Gateway[] = [];
for (const [i, [name, url]] of configs.entries()) {
  const port = 18_181 + i;
  const command = pinned ? ['taskset', '-c', String(cores - 1), process.execPath] : [process.execPath];
  const proc = spawn(command[0]!, [...command.slice(1), join(ROOT, 'dist/main.js')], {
    env: { ...process.env, SERVER_PORT: String(port), LOG_LEVEL: 'warn', OPENAI_API_URL: `${upstream.url}/v1`, OPENAI_API_KEY: 'k', USAGE_DATABASE_URL: url, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => proc.stdout!.on('data', (d) => String(d).includes('listening') && resolve(null)));
  // A new PGlite database takes seconds of CPU to create: measure once the ledger has written.
  for (let k = 0; k < 120 && url !== 'off'; k++) {
    await load(port, 4, { amount: 50 });
    if (/gateway_usage_records_written_total [1-9]/.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await load(port, 32, { duration: 3 });
  gateways.push({ name, port, proc, rps: [], requests: 0, start: { main: 0, other: 0 } });
}
for (const g of gateways) g.start = cpu(g.proc.pid!);
for (let cycle = 0; cycle < CYCLES; cycle++) {
  for (const g of gateways) {
    const result = await load(g.port, 32, { duration: SLOT });
    g.rps.push(result.requests.total / SLOT);
    g.requests += result.requests.total;
  }
  console.error(`[ledger] cycle ${cycle + 1}: ${gateways.map((g) => `${g.name} ${Math.round(g.rps.at(-1)!)}`).join(', ')} req/s`);
}
await new Promise((resolve) => setTimeout(resolve, 2500)); // the writers' last batches
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const off = gateways[0]!;
const offCpu = cpu(off.proc.pid!);
const perRequest = (g: Gateway, now: { main: number; other: number }) => ({
  main: ((now.main - g.start.main) * 1000) / g.requests,
  other: ((now.other - g.start.other) * 1000) / g.requests,
});
const offPer = perRequest(off, offCpu);
const lines = [
  `Node ${process.versions.node}, ${new Date().toISOString()}; ${CYCLES} cycles of ${SLOT} s slots (off, Postgres, PGlite); REST JSON at c=32${pinned ? '; gateways pinned to one core, the load, upstream and Postgres server to the other' : ''}.`,
  '',
  '| ledger | req/s c=32 (median) | req/s ÷ off, same cycle (median, range) | event-loop CPU/request (× off) | other threads CPU/request | total CPU/request (× off) |',
  '|---|---|---|---|---|---|',
];
for (const g of gateways) {
  const ratios = g.rps.map((r, i) => r / off.rps[i]!);
  const per = perRequest(g, cpu(g.proc.pid!));
  lines.push(
    `| ${g.name} | ${Math.round(median(g.rps))} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ` +
      `${Math.round(per.main)} µs (${(per.main / offPer.main).toFixed(2)}) | ${Math.round(per.other)} µs | ${Math.round(per.main + per.other)} µs (${((per.main + per.other) / (offPer.main + offPer.other)).toFixed(2)}) |`,
  );
}
console.log(lines.join('\n'));
const section = `## Usage ledger: on vs off

\`npx tsx bench/ledger.ts\` (not part of \`npm run bench\`; this section is kept when that rewrites the file): three built
gateways — ledger off, on a Postgres server, on the embedded PGlite — loaded in turn in short alternating slots, so other
load falls on all three alike; req/s compared with the ledger-off gateway's in the same cycle. CPU per request covers the
whole run, the writer's batches included; "other threads" is PGlite's worker and V8's helpers. The event loop's share
is what requests wait for (a record costs it ~1–8 µs: a record object, its line of COPY text or JSON, the driver's
write); PGlite's worker (~35 µs a record) runs beside it, on another core where there is one — here it is pinned to the
gateway's one core, so the PGlite row's req/s is the worst case, a replica with a one-core CPU limit.

${lines.join('\n')}
`;
writeSection(join(ROOT, 'bench/RESULTS.md'), 'ledger', section);
console.error('[ledger] wrote its section of bench/RESULTS.md');
for (const g of gateways) g.proc.kill();
await upstream.stop();
await postgres.close();
process.exit(0);
