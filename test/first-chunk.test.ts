/**
 * A stream's first chunk leaves the gateway as soon as it is relayed, not with the rest of a burst.
 * Node corks a response's socket on every write until the next tick, which waits for the microtask
 * queue: when an upstream's chunks arrive together (a fast model, a cached answer) the whole burst
 * is relayed in one run of microtasks, and without a flush the first chunk would go out with the
 * last. Observed on the gateway's own sockets: which frames each write to the client carries.
 */
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let openai: FakeProvider;
let anthropic: FakeProvider;
let gw: TestGateway;
/** The text of each write the gateway made to the newest client connection. */
let writes: string[] = [];

beforeAll(async () => {
  openai = await startFakeProvider({ basePath: '/v1', apiKey: 'key-openai' });
  anthropic = await startFakeProvider({ flavor: 'anthropic', basePath: '/v1', apiKey: 'key-anthropic', models: ['claude-burst'] });
  gw = await startTestGateway({ OPENAI_API_URL: openai.url, OPENAI_API_KEY: 'key-openai', ANTHROPIC_API_URL: anthropic.url, ANTHROPIC_API_KEY: 'key-anthropic' });
  gw.server.on('connection', (socket: Socket) => {
    const mine: string[] = [];
    writes = mine;
    const s = socket as Socket & { _write: Function; _writev: Function };
    const write = s._write.bind(s);
    const writev = s._writev.bind(s);
    s._write = (data: Buffer | string, encoding: BufferEncoding, done: () => void) => {
      mine.push(String(data));
      write(data, encoding, done);
    };
    s._writev = (chunks: { chunk: Buffer | string }[], done: () => void) => {
      mine.push(chunks.map((c) => String(c.chunk)).join(''));
      writev(chunks, done);
    };
  });
});
afterAll(async () => {
  await gw?.close();
  await openai?.close();
  await anthropic?.close();
});

/** POSTs on a connection of its own; resolves with the whole response body. */
function post(path: string, body: unknown, accept = 'text/event-stream'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, gw.url);
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const count = (text: string, frame: RegExp) => text.match(frame)?.length ?? 0;

/** The writes carrying `frame`: the first of them must carry exactly one, and more must follow. */
function expectFirstAlone(frame: RegExp, total: number) {
  const carrying = writes.filter((w) => count(w, frame) > 0);
  expect(carrying.reduce((n, w) => n + count(w, frame), 0)).toBe(total);
  expect(count(carrying[0]!, frame)).toBe(1);
  expect(carrying.length).toBeGreaterThan(1);
}

describe('the first chunk of a burst is sent at once', () => {
  it('REST chat stream', async () => {
    const res = await post('/v1/chat/completions', { model: 'openai/burst-stream', stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] });
    expect(res.status).toBe(200);
    const chunks = count(res.text, /^data: \{/gm);
    expect(chunks).toBeGreaterThan(5);
    expect(res.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expectFirstAlone(/^data: \{/gm, chunks);
  });

  it('GraphQL subscription over SSE', async () => {
    const res = await post('/graphql', {
      query: 'subscription { chatCompletionStream(input: { model: "openai/burst-stream", messages: [{ role: USER, content: "one two three four five six" }] }) { choices { delta { content } } } }',
    });
    expect(res.status).toBe(200);
    const events = count(res.text, /^event: next$/gm);
    expect(events).toBeGreaterThan(5);
    expect(res.text).toContain('event: complete');
    expectFirstAlone(/^event: next$/gm, events);
  });

  it('Messages stream relayed from a native provider', async () => {
    const res = await post('/v1/messages', { model: 'anthropic/claude-burst', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] });
    expect(res.status).toBe(200);
    const events = count(res.text, /^event: /gm);
    expect(events).toBeGreaterThan(5);
    expect(res.text).toContain('event: message_stop');
    expectFirstAlone(/^event: /gm, events);
  });
});
