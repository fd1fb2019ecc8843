import { startGateway, startUpstream, rssMB, streamOnce, streamPool, restStreamBody } from './lib.js';
const upstream = await startUpstream();
for (const url of [undefined, 'off']) {
  const g = await startGateway('g', { upstream: upstream.url, ...(url ? { usageDatabaseUrl: url } : {}) });
  await new Promise((r) => setTimeout(r, 3000));
  const a = rssMB(g.pid);
  const pool = streamPool(g.url, 300);
  const t = { name: 'x', url: `${g.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: restStreamBody('openai/stream-50-20'), kind: 'rest' as const };
  await Promise.all(Array.from({ length: 250 }, () => streamOnce(pool, t)));
  const b = rssMB(g.pid);
  await new Promise((r) => setTimeout(r, 3000));
  console.log(url ?? 'pglite', 'idle', a?.toFixed(0), 'after 250 streams', b?.toFixed(0), 'after 3s', rssMB(g.pid)?.toFixed(0));
  await pool.close(); await g.stop();
}
await upstream.stop(); process.exit(0);
