/**
 * The floor: the least a JSON-parsing pass-through proxy can do on Node — `node:http` in, undici `Pool`
 * out, the body parsed and re-serialised once, the answer (JSON or SSE) piped back. No auth, no schema,
 * no logging. Runs in its own process; `UPSTREAM_URL` is the fake upstream's origin.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const pool = new Pool(new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9').origin, { keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', async () => {
    try {
      const body: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'));
      const up = await pool.request({ method: 'POST', path: req.url ?? '/', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const headers: Record<string, string> = { 'content-type': String(up.headers['content-type'] ?? 'application/json') };
      if (up.headers['content-length']) headers['content-length'] = String(up.headers['content-length']);
      res.writeHead(up.statusCode, headers);
      // .pipe() rather than stream.pipeline(): measurably cheaper per request, and this is the floor.
      up.body.on('error', () => res.destroy());
      res.on('close', () => res.writableFinished || up.body.destroy());
      up.body.pipe(res);
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
