/**
 * A/B of two builds on the same machine, same run: `npx tsx bench/ab.ts <other checkout>` starts this
 * checkout's `dist/main.js` (A) and the other's (B), auth on, against one fake upstream and one local
 * OIDC issuer, and alternates c=32 runs of the REST JSON and GraphQL mutation scenarios, A, B, A, B…
 * It reports CPU time per request of each gateway process (less sensitive to other load than req/s)
 * and req/s, as medians over the rounds, and B÷A. Neither dist/ is rebuilt: build both first.
 *
 * Knobs: AB_ROUNDS (5), AB_SECONDS (3 per run), AB_ENV_A / AB_ENV_B (JSON objects of extra environment
 * for one side: compare two configurations of one build with `npx tsx bench/ab.ts .`). Both sides run
 * with the usage ledger off unless their AB_ENV says otherwise; `{"USAGE_DATABASE_URL":"pglite"}`
 * gives that side a fresh embedded database in a temporary directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { GQL_BODY, load, median, REST_BODY, ROOT, startChild, startUpstream, type Child, type Target } from './lib.js';

const other = process.argv[2];
if (!other) {
  console.error('usage: npx tsx bench/ab.ts <path of the other checkout, with dist/ built>');
  process.exit(2);
}
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);

const upstream = await startUpstream();
const issuer = await startOidcIssuer();
const token = await issuer.token({ sub: 'bench', azp: 'bench' });
const env = (extra: Record<string, string> = {}) => ({
  SERVER_HOST: '127.0.0.1',
  SERVER_PORT: '0',
  LOG_LEVEL: 'warn',
  OPENAI_API_URL: `${upstream.url}/v1`,
  OPENAI_API_KEY: 'k',
  ENABLE_AUTH: 'true',
  OIDC_ISSUER_URL: issuer.issuer,
  NODE_ENV: 'production',
  ...extra,
});
const sideEnv = (name: string): Record<string, string> => {
  const extra = JSON.parse(process.env[name] ?? '{}') as Record<string, string>;
  if (extra.USAGE_DATABASE_URL === 'pglite') extra.USAGE_DATABASE_URL = `pglite://${mkdtempSync(join(tmpdir(), 'ab-ledger-'))}`;
  return { USAGE_DATABASE_URL: 'off', ...extra };
};
const a = await startChild('A (this checkout)', [join(ROOT, 'dist/main.js')], env(sideEnv('AB_ENV_A')));
const b = await startChild(`B (${other})`, [join(resolve(other), 'dist/main.js')], env(sideEnv('AB_ENV_B')));
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
const targets = (g: Child): Target[] => [
  { name: 'REST JSON, auth on', url: `${g.url}/v1/chat/completions`, headers, body: REST_BODY, pid: g.pid },
  { name: 'GraphQL mutation, auth on', url: `${g.url}/graphql`, headers, body: GQL_BODY, pid: g.pid },
];
const results = new Map<string, { a: { cpu: number[]; rps: number[] }; b: { cpu: number[]; rps: number[] } }>();
for (const t of targets(a)) results.set(t.name, { a: { cpu: [], rps: [] }, b: { cpu: [], rps: [] } });
// Warm-up: JIT and caches of both.
for (const g of [a, b]) for (const t of targets(g)) await load(t, 32, 2);
for (let round = 0; round < ROUNDS; round++) {
  for (const [side, g] of [['a', a], ['b', b]] as const) {
    for (const t of targets(g)) {
      const r = await load(t, 32, SECONDS);
      if (r.non2xx || r.errors) throw new Error(`${t.name} (${side}): ${r.non2xx} non-2xx, ${r.errors} errors`);
      results.get(t.name)![side].cpu.push(r.cpuUsPerRequest);
      results.get(t.name)![side].rps.push(r.rps);
    }
  }
  console.error(`[ab] round ${round + 1}/${ROUNDS}`);
}
console.log(`| scenario | A CPU/request | B CPU/request | B ÷ A | A req/s | B req/s |\n|---|---|---|---|---|---|`);
for (const [name, r] of results) {
  const [ca, cb] = [median(r.a.cpu), median(r.b.cpu)];
  console.log(`| ${name} | ${ca.toFixed(0)} µs | ${cb.toFixed(0)} µs | ${(cb / ca).toFixed(2)} | ${median(r.a.rps).toFixed(0)} | ${median(r.b.rps).toFixed(0)} |`);
}
await Promise.all([a, b, upstream].map((c) => c.stop()));
await issuer.close();
