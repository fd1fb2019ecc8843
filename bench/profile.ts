/**
 * CPU profiles of the gateway under load: `node --cpu-prof` on the built gateway, autocannon at c=32,
 * then a summary of the steady state (start-up and warm-up samples skipped) by bench/profile-summary.ts.
 *
 *   npx tsx bench/profile.ts [floor] [rest] [rest-auth] [graphql] [graphql-noauth]   (default: floor rest graphql)
 *
 * Profiles go to /tmp/prof/<scenario>/; the summaries to stdout and bench/PROFILE.md.
 * PROFILE_SECONDS (default 10) is the measured load per scenario.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { BENCH, GQL_BODY, REST_BODY, compileBenchScript, ensureBuild, load, loadProblems, probe, startChild, startGateway, startUpstream, writeKeepingSections, type Target } from './lib.js';
import { newestProfile, summarise, toMarkdown } from './profile-summary.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const log = (s: string) => process.stderr.write(`[profile] ${s}\n`);


const SCENARIOS = {
  floor: { title: 'the floor (bench/floor.ts), for comparison', path: '/v1/chat/completions', body: REST_BODY, auth: false },
  rest: { title: 'REST JSON (POST /v1/chat/completions), auth off', path: '/v1/chat/completions', body: REST_BODY, auth: false },
  'rest-auth': { title: 'REST JSON (POST /v1/chat/completions), auth on', path: '/v1/chat/completions', body: REST_BODY, auth: true },
  graphql: { title: 'GraphQL mutation chatCompletion, auth on', path: '/graphql', body: GQL_BODY, auth: true },
  'graphql-noauth': { title: 'GraphQL mutation chatCompletion, auth off', path: '/graphql', body: GQL_BODY, auth: false },
} as const;
type Name = keyof typeof SCENARIOS;

async function main() {
  const names = (process.argv.slice(2).length ? process.argv.slice(2) : ['floor', 'rest', 'graphql']) as Name[];
  for (const n of names) if (!(n in SCENARIOS)) throw new Error(`unknown scenario ${n}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  const build = ensureBuild(log);
  if (!build.ok) throw new Error('the build failed: profiles need dist/ (and its source maps)');
  const upstream = await startUpstream();
  const issuer = await startOidcIssuer();
  const token = await issuer.token({}, { expiresIn: '1h' });
  const sections: string[] = [];
  let failed = false;
  for (const name of names) {
    const s = SCENARIOS[name];
    const dir = join('/tmp/prof', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const spawned = performance.now();
    const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const gw =
      name === 'floor'
        ? await startChild('floor', [...flags, compileBenchScript('floor')], { UPSTREAM_URL: upstream.url })
        : await startGateway(`gw-${name}`, { upstream: upstream.url, ...(s.auth ? { issuer: issuer.issuer } : {}), nodeFlags: flags, usageDatabaseUrl: 'off' });
    const target: Target = {
      name,
      url: gw.url + s.path,
      headers: { 'content-type': 'application/json', ...(s.auth ? { authorization: `Bearer ${token}` } : {}) },
      body: s.body,
      pid: gw.pid,
    };
    target.expectBody = await probe(target);
    log(`${name}: warm-up 3 s, then ${SECONDS} s at c=32`);
    await load(target, 32, 3);
    const skipMs = performance.now() - spawned;
    const r = await load(target, 32, SECONDS);
    const problem = loadProblems(r);
    if (problem) failed = true;
    log(`${name}: ${r.rps.toFixed(0)} req/s (under the profiler), p50 ${r.p50.toFixed(2)} ms${problem ? ` — ${problem}` : ''}`);
    const perRequest = (us: number) => `${us.toFixed(0)} µs CPU per request`;
    await sleep(200);
    await gw.stop(20_000); // SIGTERM: graceful exit, which is when the profile is written
    const file = newestProfile(dir);
    const summary = summarise(file, { skipMs, top: 30 });
    sections.push(toMarkdown(summary, `${s.title} — ${r.rps.toFixed(0)} req/s, ${perRequest(r.cpuUsPerRequest)} under the profiler (${file})`));
  }
  await upstream.stop();
  await issuer.close();
  const md = `# Gateway CPU profiles\n\nNode ${process.version}; \`node --cpu-prof\` on \`node dist/main.js\` at c=32 (autocannon), steady state only; usage ledger off, as in the\nbench's JSON rows; locations mapped to src/ through the build's source maps.\n\nRead \`writev\` (native) with care: V8's sampler counts wall time on the JS thread, and on a busy 2-core machine a socket\nwrite that wakes the peer on loopback often gets the writer preempted, so most of that time is waiting for a CPU, not work\n(\`strace -c\` shows ~6 µs per writev call, two per request, the same count as the floor). The JS entries are the real costs.\nInclusive times of async functions cover only their synchronous parts.\n\n${sections.join('\n')}`;
  process.stdout.write(`${md}\n`);
  // Sections written by hand or by other scripts between `<!-- name -->` markers are kept.
  writeKeepingSections(join(BENCH, 'PROFILE.md'), md);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
