/**
 * What tracing costs: `npx tsx bench/tracing.ts` runs the built gateway (dist/) three ways — tracing
 * off (no endpoint: the SDK is not loaded), on with every trace sampled and exported over OTLP/HTTP
 * protobuf to a loopback receiver, and on with `OTEL_TRACES_SAMPLER=always_off` (spans made but not
 * recorded or exported) — alternating c=32 runs of REST JSON and a REST stream (20 chunks, no delay),
 * and reports the gateway process's CPU time per request and req/s, medians over the rounds, with
 * each configuration's ratio to "off" from the same run. The receiver (in this process) reads and
 * discards each export, so its own cost is not the gateway's.
 * Knobs: TRACING_ROUNDS (3), TRACING_SECONDS (3 per run). Writes its table into bench/RESULTS.md, as the
 * section between the `tracing` markers (which `npm run bench` keeps when it rewrites the file).
 */
import { execSync } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BENCH, ensureBuild, load, median, REST_BODY, restStreamBody, ROOT, startChild, startUpstream, writeSection, type Child, type Target } from './lib.js';

const loadStart = loadavg().map((l) => l.toFixed(2)).join(' ');
const ROUNDS = Number(process.env.TRACING_ROUNDS ?? 3);
const SECONDS = Number(process.env.TRACING_SECONDS ?? 3);

if (!ensureBuild((s) => console.error(s)).ok) throw new Error('the build failed; this bench measures dist/');

let exports = 0;
let exportedBytes = 0;
const receiver = createServer((req, res) => {
  req.on('data', (part: Buffer) => (exportedBytes += part.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const upstream = await startUpstream();
const base = {
  SERVER_HOST: '127.0.0.1',
  SERVER_PORT: '0',
  LOG_LEVEL: 'warn',
  OPENAI_API_URL: `${upstream.url}/v1`,
  OPENAI_API_KEY: 'k',
  NODE_ENV: 'production',
  USAGE_DATABASE_URL: 'off',
};
const configs: [string, Record<string, string>][] = [
  ['off', {}],
  ['on, 100% sampled, exported (protobuf)', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' }],
  ['on, sampler always_off', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_off' }],
];
const gateways: Child[] = [];
for (const [name, extra] of configs) gateways.push(await startChild(`gateway, tracing ${name}`, [join(ROOT, 'dist/main.js')], { ...base, ...extra }));

const headers = { 'content-type': 'application/json' };
const targets = (g: Child): Target[] => [
  { name: 'REST JSON', url: `${g.url}/v1/chat/completions`, headers, body: REST_BODY, pid: g.pid },
  { name: 'REST stream (20 chunks)', url: `${g.url}/v1/chat/completions`, headers, body: restStreamBody('openai/stream-20-0'), pid: g.pid },
];
const results = new Map<string, { cpu: number[]; rps: number[] }[]>();
for (const t of targets(gateways[0]!)) results.set(t.name, configs.map(() => ({ cpu: [], rps: [] })));
for (const g of gateways) for (const t of targets(g)) await load(t, 32, 2); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, g] of gateways.entries()) {
    for (const t of targets(g)) {
      const r = await load(t, 32, SECONDS);
      if (r.non2xx || r.errors) throw new Error(`${t.name} (${configs[i]![0]}): ${r.non2xx} non-2xx, ${r.errors} errors`);
      results.get(t.name)![i]!.cpu.push(r.cpuUsPerRequest);
      results.get(t.name)![i]!.rps.push(r.rps);
    }
  }
  console.error(`[tracing] round ${round + 1}/${ROUNDS}`);
}

const rows = [`| scenario, c=32 | tracing | CPU/request | × off | req/s | × off |`, `|---|---|---|---|---|---|`];
for (const [name, perConfig] of results) {
  const offCpu = median(perConfig[0]!.cpu);
  const offRps = median(perConfig[0]!.rps);
  for (const [i, r] of perConfig.entries()) {
    const cpu = median(r.cpu);
    const rps = median(r.rps);
    rows.push(`| ${name} | ${configs[i]![0]} | ${cpu.toFixed(0)} µs | ${(cpu / offCpu).toFixed(2)} | ${rps.toFixed(0)} | ${(rps / offRps).toFixed(2)} |`);
  }
}
const table = rows.join('\n');
console.log(`${table}\n\nThe receiver took ${exports} exports, ${(exportedBytes / 1e6).toFixed(1)} MB.`);

let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
} catch {
  // not a git checkout
}
const section = `## Tracing on vs off

\`npx tsx bench/tracing.ts\` (not part of \`npm run bench\`; this section is kept when that rewrites the file).
${new Date().toISOString()}, code ${commit}, ${cpus().length} cores, Node ${process.version}; load average at start ${loadStart},
at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}. \`node dist/main.js\`, \`LOG_LEVEL=warn\`, auth and ledger off, one
process per configuration, ${ROUNDS} rounds of alternating ${SECONDS} s runs at c=32, medians; "× off" compares with tracing off
in the same run. "on" exports every span (2 per request) over OTLP/HTTP protobuf to a receiver on loopback that discards
them (${exports} exports, ${(exportedBytes / 1e6).toFixed(1)} MB); "always_off" makes the spans but records and exports none. Off,
the SDK is not loaded (tested) and the request path pays one boolean check per hook.

${table}
`;
writeSection(join(BENCH, 'RESULTS.md'), 'tracing', section);
console.error('[tracing] wrote its section of bench/RESULTS.md');
await Promise.all([...gateways, upstream].map((c) => c.stop()));
receiver.close();
