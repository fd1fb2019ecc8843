/**
 * Graceful shutdown: new connections (health checks included) are refused, in-flight streams finish; at the
 * deadline (or a second signal) what is left is cut with a clear error; the process exits 0.
 */
import { once } from 'node:events';
import { print } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatCompletionStreamDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { readSseData, spawnGateway, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { wsClient } from './helpers/graphql.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

async function setup(): Promise<{ groq: FakeProvider; gw: TestGateway }> {
  const groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
  cleanup.push(() => groq.close());
  const gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'k' });
  cleanup.push(() => gw.close());
  return { groq, gw };
}

const streamRequest = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: `groq/${model}`, messages: [{ role: 'user', content: 'a b c d e f g h' }], stream: true }),
  });

describe('in-process shutdown', () => {
  it('lets an in-flight stream finish while refusing new connections (health checks fail)', async () => {
    const { gw } = await setup();
    const res = await streamRequest(gw.url, 'paced-stream');
    expect(res.status).toBe(200);
    const body = readSseData(res);
    const stopped = gw.shutdown(10_000);
    // While draining, the port no longer takes new connections.
    await expect(fetch(`${gw.url}/health`)).rejects.toThrow();
    const data = await body;
    expect(data.at(-1)).toBe('[DONE]');
    await stopped;
  });

  it('cuts a stream still running at the deadline with a "shutting down" error event and no [DONE]', async () => {
    const { gw } = await setup();
    const res = await streamRequest(gw.url, 'slow-stream');
    const body = readSseData(res);
    await gw.shutdown(300);
    const data = await body;
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!)).toEqual({ error: 'gateway is shutting down; retry the request' });
  });

  it('cuts a WebSocket subscription at the deadline with SERVICE_UNAVAILABLE', async () => {
    const { gw } = await setup();
    const client = wsClient(gw.url);
    cleanup.push(async () => client.dispose());
    const errors: any[] = [];
    const ended = new Promise<void>((resolve) => {
      let first: () => void;
      const started = new Promise<void>((r) => (first = r));
      client.subscribe(
        { query: print(ChatCompletionStreamDocument), variables: { input: { model: 'groq/slow-stream', messages: [{ role: 'USER', content: 'x' }] } } },
        {
          next: (value) => {
            if (value.errors) errors.push(...value.errors);
            first();
          },
          error: (e) => (errors.push(...[e].flat()), resolve()),
          complete: () => resolve(),
        },
      );
      void started.then(() => gw.shutdown(300));
    });
    await ended;
    expect(errors[0]).toMatchObject({ message: 'gateway is shutting down; retry the request', extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });
});

describe('the process', () => {
  async function startProcess(groq: FakeProvider, env: Record<string, string> = {}) {
    const started = spawnGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'k', ...env });
    cleanup.push(async () => (await started.catch(() => undefined))?.child.kill('SIGKILL'));
    return started;
  }

  it('exits 0 on SIGTERM after its in-flight stream completes', async () => {
    const groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
    cleanup.push(() => groq.close());
    const { child, url } = await startProcess(groq);
    const res = await streamRequest(url, 'paced-stream');
    const body = readSseData(res);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect((await body).at(-1)).toBe('[DONE]');
  });

  it('cuts in-flight streams on a second SIGTERM, with the error event, and still exits 0', async () => {
    const groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
    cleanup.push(() => groq.close());
    const { child, url } = await startProcess(groq, { SERVER_SHUTDOWN_TIMEOUT: '60s' });
    const res = await streamRequest(url, 'slow-stream');
    const reader = res.body!.getReader();
    await reader.read(); // the stream is live
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200)); // let the first signal be handled before the second
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    expect(rest).toContain('gateway is shutting down');
    expect(rest).not.toContain('[DONE]');
  });
});
