import { startOidcIssuer } from '../test/fakes/oidc-issuer.js';
import { startGateway, startUpstream, startFloor, streamOnce, streamPool, gqlStreamBody, restStreamBody, median } from './lib.js';
const upstream = await startUpstream();
const issuer = await startOidcIssuer();
const token = await issuer.token({}, { expiresIn: '1h' });
const g = await startGateway('g', { upstream: upstream.url, issuer: issuer.issuer, usageDatabaseUrl: 'off' });
const f = await startFloor(upstream.url);
const headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` };
const model = 'openai/stream-20-0';
const targets = [
  { name: 'direct', url: `${upstream.url}/v1/chat/completions`, headers, body: restStreamBody(model), kind: 'rest' as const },
  { name: 'floor', url: `${f.url}/v1/chat/completions`, headers, body: restStreamBody(model), kind: 'rest' as const },
  { name: 'rest', url: `${g.url}/v1/chat/completions`, headers, body: restStreamBody(model), kind: 'rest' as const },
  { name: 'gql-sse', url: `${g.url}/graphql`, headers, body: gqlStreamBody(model), kind: 'graphql' as const },
];
const pools = targets.map((t) => streamPool(t.url, 1));
const ttfc: number[][] = targets.map(() => []);
for (let i = 0; i < 400; i++) for (const [j, t] of targets.entries()) { const r = await streamOnce(pools[j], t); if (i >= 50) ttfc[j]!.push(r.ttfc); }
for (const [j, t] of targets.entries()) console.log(t.name, median(ttfc[j]!).toFixed(3), 'ms');
await g.stop(); await f.stop(); await upstream.stop(); await issuer.close(); process.exit(0);
