/**
 * CPU profile of a gateway serving streams: `npx tsx bench/profile-streams.ts [graphql|rest|graphql-ws]`
 * runs the built gateway (auth on, ledger off) under `node --cpu-prof` (200 µs sampling) through a
 * burst of 250 and two of 1,000 streams × 51 chunks, and leaves the profile in /tmp/prof/streams-<kind>/.
 * `npx tsx bench/stream-steps.ts /tmp/prof/streams-<kind> 114750` then charges its samples to the per-chunk
 * steps of bench/RESULTS.md ("Streaming: where the work goes per chunk").
 */
import { mkdirSync, rmSync } from 'node:fs';
import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { startGateway, startUpstream, streamOnce, streamPool, gqlStreamBody, restStreamBody } from './lib.js';
const kind = (process.argv[2] ?? 'graphql') as 'graphql' | 'rest' | 'graphql-ws';
const dir = `/tmp/prof/streams-${kind}`; rmSync(dir, { recursive: true, force: true }); mkdirSync(dir, { recursive: true });
const upstream = await startUpstream();
const issuer = await startOidcIssuer();
const token = await issuer.token({}, { expiresIn: '1h' });
const g = await startGateway('g', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off', nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'] });
const headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` };
const model = 'openai/stream-50-20';
const t = kind === 'rest' ? { name: 'r', url: `${g.url}/v1/chat/completions`, headers, body: restStreamBody(model), kind } : kind === 'graphql' ? { name: 'g', url: `${g.url}/graphql`, headers, body: gqlStreamBody(model), kind } : { name: 'w', url: `${g.url.replace('http', 'ws')}/graphql`, headers, body: gqlStreamBody(model), kind };
for (const n of [250, 1000, 1000]) {
  const pool = kind === 'graphql-ws' ? undefined : streamPool(t.url, n + 16);
  const runs = await Promise.all(Array.from({ length: n }, () => streamOnce(pool, t)));
  console.error(n, runs.filter((r) => !r.ok).length, 'failed');
  await pool?.close();
}
await g.stop(5000); await upstream.stop(); await issuer.close(); process.exit(0);
