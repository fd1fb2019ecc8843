import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionStreamDocument, ProvidersDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { subscribeSse, subscribeWs, wsClient } from './helpers/graphql.js';

let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gk' });
  gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'gk', SERVER_READ_TIMEOUT: '1s' });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

const input = (model: string, content = 'one two three', extra: Record<string, unknown> = {}) => ({
  input: { model, messages: [{ role: 'USER' as const, content }], ...extra },
});
const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };

const transports = {
  sse: (variables: ReturnType<typeof input>) => subscribeSse(gw.url, ChatCompletionStreamDocument, variables),
  ws: async (variables: ReturnType<typeof input>) => {
    const client = wsClient(gw.url);
    try {
      return await subscribeWs(client, ChatCompletionStreamDocument, variables);
    } finally {
      await client.dispose();
    }
  },
};

describe.each(Object.entries(transports))('chatCompletionStream over %s', (_name, run) => {
  it('delivers every chunk in order, usage on the last', async () => {
    const { results, errors } = await run(input('groq/llama-3.3-70b-versatile'));
    expect(errors).toEqual([]);
    const chunks = results.map((r) => r.chatCompletionStream);
    expect(chunks.every((c) => c.provider === 'groq' && c.id === 'chatcmpl-fakestream')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: one two three');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('ASSISTANT');
    expect(chunks.find((c) => c.choices[0]?.finishReason)!.choices[0]!.finishReason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.usage).toMatchObject({ promptTokens: expect.any(Number), completionTokens: 'You said: one two three'.length });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('delivers tool-call deltas', async () => {
    const { results, errors } = await run(input('groq/m', 'weather?', { tools: [weatherTool] }));
    expect(errors).toEqual([]);
    const deltas = results.flatMap((r) => r.chatCompletionStream.choices[0]?.delta.toolCalls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, id: 'call_fake1', type: 'function', function: { name: 'get_weather' } });
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ location: 'Paris', unit: 'celsius' });
  });

  it('fails with the upstream status before any chunk', async () => {
    const { results, errors } = await run(input('groq/fail-429'));
    expect(results).toEqual([]);
    expect(errors[0]).toMatchObject({ message: 'groq: fake failure 429', extensions: { code: 'RATE_LIMITED', provider: 'groq', status: 429 } });
  });

  it('ends a stream broken mid-way with a GraphQL error, not a quiet end', async () => {
    const { results, errors } = await run(input('groq/error-stream'));
    expect(results.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ message: 'groq: fake overloaded mid-stream', extensions: { code: 'UPSTREAM_ERROR' } });
  });

  it('ends a stream cut by the upstream with a GraphQL error', async () => {
    const { errors } = await run(input('groq/cut-stream'));
    expect(errors[0]).toMatchObject({ extensions: { code: 'UPSTREAM_ERROR', provider: 'groq' } });
  });

  it('answers an upstream that never starts with UPSTREAM_TIMEOUT', async () => {
    const { errors } = await run(input('groq/hang'));
    expect(errors[0]).toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT' } });
  });

  it('rejects bad input with BAD_USER_INPUT', async () => {
    const { errors } = await run(input('nobody-knows'));
    expect(errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('client going away aborts the upstream request', () => {
  it('over SSE, when the request is aborted', async () => {
    const aborted = groq.nextAbort();
    const client = createSseClient({ url: `${gw.url}/graphql`, retryAttempts: 0 });
    await new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe(
        { query: print(ChatCompletionStreamDocument), variables: input('groq/slow-stream') },
        {
          next: () => {
            unsubscribe(); // the first chunk arrived: leave mid-stream
            resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    expect((await aborted).json.model).toBe('slow-stream');
    client.dispose();
  });

  it('over SSE, when the client leaves before the provider has answered at all', async () => {
    const aborted = groq.nextAbort();
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(ChatCompletionStreamDocument), variables: input('groq/hang') }),
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await aborted).json.model).toBe('hang');
    // and the gateway serves the next stream as usual
    const { results, errors } = await subscribeSse(gw.url, ChatCompletionStreamDocument, input('groq/model-a'));
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(2);
    expect(gw.logs()).not.toContain('"level":50');
  });

  it('over WebSocket, when the client sends complete', async () => {
    const aborted = groq.nextAbort();
    const client = wsClient(gw.url);
    await new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe(
        { query: print(ChatCompletionStreamDocument), variables: input('groq/slow-stream') },
        { next: () => (unsubscribe(), resolve()), error: reject, complete: () => {} },
      );
    });
    expect((await aborted).json.model).toBe('slow-stream');
    await client.dispose();
  });

  it('over WebSocket, when the socket closes', async () => {
    const aborted = groq.nextAbort();
    const client = wsClient(gw.url);
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: print(ChatCompletionStreamDocument), variables: input('groq/slow-stream') },
        { next: () => resolve(), error: reject, complete: () => {} },
      );
    });
    await client.dispose(); // closes the socket with the subscription still running
    expect((await aborted).json.model).toBe('slow-stream');
  });
});

describe('WebSocket transport', () => {
  it('serves queries too', async () => {
    const client = wsClient(gw.url);
    const result = await new Promise<any>((resolve, reject) => {
      client.subscribe({ query: print(ProvidersDocument) }, { next: resolve, error: reject, complete: () => {} });
    });
    expect(result.data.providers).toHaveLength(15);
    await client.dispose();
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const client = wsClient(gw.url.replace(/$/, '/nothing-here'));
    const error = await new Promise<any>((resolve) => {
      client.subscribe({ query: '{ providers { id } }' }, { next: () => {}, error: resolve, complete: () => {} });
    });
    expect(error).toBeDefined();
    await client.dispose();
  });
});

describe('GraphQL over SSE on the wire', () => {
  const post = (model: string, signal?: AbortSignal) =>
    fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(ChatCompletionStreamDocument), variables: input(model) }),
      signal,
    });

  it('frames as graphql-sse distinct connections: a comment first, event: next per result, event: complete', async () => {
    const res = await post('groq/model-a');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text.startsWith(':\n\nevent: next\ndata: {"data":{"chatCompletionStream":')).toBe(true);
    expect(text.endsWith('\n\nevent: complete\ndata:\n\n')).toBe(true);
    const frames = text.split('\n\n').filter((f) => f.startsWith('event: next'));
    expect(frames.length).toBeGreaterThan(3);
    for (const frame of frames) expect(() => JSON.parse(frame.slice('event: next\ndata: '.length))).not.toThrow();
  });

  it('keeps a long stream alive with comment pings between results', async () => {
    const controller = new AbortController();
    const res = await post('groq/endless-stream', controller.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const aborted = groq.nextAbort();
    // Pings come every 300 ms under NODE_ENV=test (12 s in production).
    while ((text.match(/\n\n:\n\n/g) ?? []).length < 2) text += decoder.decode((await reader.read()).value);
    controller.abort();
    await aborted; // and leaving still aborts the provider request
    expect(text).toContain('event: next');
  });
});
