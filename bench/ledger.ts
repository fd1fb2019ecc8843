/**
 * What the usage ledger costs: `npx tsx bench/ledger.ts` runs the built gateway (dist/) with the
 * ledger off, on a real Postgres server (Debian's, started like the tests do) and on the embedded
 * PGlite, alternating, and reports req/s at c=32 and CPU per request split into the event-loop
 * thread and every other thread (PGlite's worker, GC helpers), from /proc/<pid>/task/<tid>/stat.
 * Each configuration first waits until its ledger has written (a new PGlite database takes seconds
 * of CPU to create) and warms up. Knobs: LEDGER_ROUNDS (2), LEDGER_SECONDS (5).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startPostgres } from '../test/helpers/postgres.js';
import { REST_BODY, ROOT, startUpstream } from './lib.js';

const ROUNDS = Number(process.env.LEDGER_ROUNDS ?? 2);
const SECONDS = Number(process.env.LEDGER_SECONDS ?? 5);
const PORT = 18_181;
const URL_ = `http://127.0.0.1:${PORT}`;
const load = (connections: number, options: { duration?: number; amount?: number }) =>
  autocannon({ url: `${URL_}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body: REST_BODY, connections, ...options });

/** CPU ms per thread of `pid`. */
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return out;
}

const upstream = await startUpstream();
const postgres = await startPostgres();
const rows: Record<string, { rps: number[]; main: number[]; other: number[] }> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, url] of [['off', 'off'], ['Postgres server', postgres.url], ['PGlite (embedded)', `pglite://${mkdtempSync(join(tmpdir(), 'bench-ledger-'))}`]] as const) {
    const gw = spawn('node', [join(ROOT, 'dist/main.js')], {
      env: { ...process.env, SERVER_PORT: String(PORT), LOG_LEVEL: 'warn', OPENAI_API_URL: `${upstream.url}/v1`, OPENAI_API_KEY: 'k', USAGE_DATABASE_URL: url, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => gw.stdout!.on('data', (d) => String(d).includes('listening') && resolve(null)));
    for (let i = 0; i < 120 && url !== 'off'; i++) {
      await load(4, { amount: 50 });
      if (/gateway_usage_records_written_total [1-9]/.test(await (await fetch(`${URL_}/metrics`)).text())) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await load(32, { duration: 3 });
    const before = threads(gw.pid!);
    const result = await load(32, { duration: SECONDS });
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the writer's last batches
    const after = threads(gw.pid!);
    let main = 0;
    let other = 0;
    for (const [tid, ms] of after) (tid === String(gw.pid) ? (main += ms - (before.get(tid) ?? 0)) : (other += ms - (before.get(tid) ?? 0)));
    const row = (rows[name] ??= { rps: [], main: [], other: [] });
    row.rps.push(result.requests.average);
    row.main.push((main * 1000) / result.requests.total);
    row.other.push((other * 1000) / result.requests.total);
    console.error(`[ledger] round ${round + 1} ${name}: ${Math.round(result.requests.average)} req/s`);
    gw.kill();
    await new Promise((resolve) => gw.once('exit', resolve));
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const off = rows.off!;
console.log('| ledger | req/s c=32 (× off) | event-loop CPU/request | other threads CPU/request |\n|---|---|---|---|');
for (const [name, r] of Object.entries(rows)) {
  console.log(`| ${name} | ${Math.round(mean(r.rps))} (${(mean(r.rps) / mean(off.rps)).toFixed(2)}) | ${Math.round(mean(r.main))} µs (runs ${r.main.map(Math.round).join(', ')}) | ${Math.round(mean(r.other))} µs |`);
}
await upstream.stop();
await postgres.close();
process.exit(0);
