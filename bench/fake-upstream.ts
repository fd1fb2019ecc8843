/**
 * An instant fake OpenAI upstream for the benchmark, on bare `node:http`, meant to run in its own
 * process (`node --import tsx bench/fake-upstream.ts`). Every response is precomputed bytes.
 *
 * - `POST …/chat/completions` → a small fixed `chat.completion`.
 * - with `"stream":true` → N `data: {chat.completion.chunk}` frames (the first carries the role,
 *   the last content chunk `finish_reason: "stop"`), a usage chunk when `stream_options.include_usage`,
 *   then `data: [DONE]`. N and the per-chunk delay come from the model name: `…stream-<N>-<delayMs>`
 *   (e.g. `openai/stream-50-20`); otherwise `FAKE_CHUNKS` (default 20) and `FAKE_DELAY_MS` (default 0).
 *   Delay 0 writes all frames in one go.
 * - `GET …/models` → a fixed model list.
 *
 * Prints `listening on http://127.0.0.1:<port>` once ready. `PORT` (default 0 = free port).
 * The request body is never JSON-parsed: the three things it needs are found by substring, which
 * holds for any `JSON.stringify` output (no spaces) and for the bench's own clients.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const DEFAULT_CHUNKS = Number(process.env.FAKE_CHUNKS ?? 20);
const DEFAULT_DELAY_MS = Number(process.env.FAKE_DELAY_MS ?? 0);
const CREATED = 1_700_000_000;

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench upstream.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
  }),
);
const JSON_HEADERS = ['content-type', 'application/json', 'content-length', String(COMPLETION.length)];

const MODELS = Buffer.from(
  JSON.stringify({
    object: 'list',
    data: ['bench', 'stream-50-20'].map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'bench' })),
  }),
);
const MODELS_HEADERS = ['content-type', 'application/json', 'content-length', String(MODELS.length)];
const SSE_HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache'];

const frame = (data: unknown) => Buffer.from(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
const chunk = (delta: Record<string, unknown>, finish: string | null) =>
  frame({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'bench',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
const FIRST = chunk({ role: 'assistant', content: 'tok ' }, null);
const MIDDLE = chunk({ content: 'tok ' }, null);
const LAST = chunk({ content: 'end' }, 'stop');
const ONLY = chunk({ role: 'assistant', content: 'end' }, 'stop');
const DONE = frame('[DONE]');
const usageFrame = (n: number) =>
  frame({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'bench',
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: n, total_tokens: 9 + n },
  });

/** The frames of one stream (and all of them as one buffer), cached per (N, usage). */
const streams = new Map<string, { frames: Buffer[]; all: Buffer }>();
function framesFor(n: number, usage: boolean): { frames: Buffer[]; all: Buffer } {
  const key = `${n}:${usage}`;
  let cached = streams.get(key);
  if (!cached) {
    const frames = n === 1 ? [ONLY] : [FIRST, ...Array.from({ length: Math.max(0, n - 2) }, () => MIDDLE), LAST];
    if (usage) frames.push(usageFrame(n));
    frames.push(DONE);
    cached = { frames, all: Buffer.concat(frames) };
    streams.set(key, cached);
  }
  return cached;
}

const STREAM_MODEL = /stream-(\d+)-(\d+)/;

function stream(res: ServerResponse, body: string): void {
  const m = STREAM_MODEL.exec(body);
  const n = m ? Number(m[1]) : DEFAULT_CHUNKS;
  const delay = m ? Number(m[2]) : DEFAULT_DELAY_MS;
  const { frames, all } = framesFor(Math.max(1, n), body.includes('"include_usage":true'));
  res.writeHead(200, SSE_HEADERS);
  if (delay <= 0) {
    res.end(all);
    return;
  }
  // Content chunks are paced; the usage chunk and [DONE] follow the last one at once.
  const content = Math.max(1, n);
  let i = 0;
  const tick = () => {
    if (res.destroyed) return;
    if (i < content - 1) {
      res.write(frames[i++]);
      setTimeout(tick, delay);
      return;
    }
    res.end(Buffer.concat(frames.slice(i)));
  };
  setTimeout(tick, delay);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (req.method === 'GET') {
    if (url.endsWith('/models')) res.writeHead(200, MODELS_HEADERS).end(MODELS);
    else res.writeHead(404).end();
    return;
  }
  if (req.method !== 'POST' || !url.endsWith('/chat/completions')) {
    req.resume();
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (part: string) => (body += part));
  req.on('end', () => {
    if (body.includes('"stream":true')) stream(res, body);
    else res.writeHead(200, JSON_HEADERS).end(COMPLETION);
  });
}

const server = createServer({ keepAliveTimeout: 120_000 }, handle);
// A deep accept queue: 1,000 streams open at once must not be the upstream's problem.
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', 4096, () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
