/**
 * Fallback aliases: MODEL_FALLBACKS maps an alias to ordered provider/model targets. A target that
 * fails before answering (connect error, reset, timeout, 5xx, 429) hands over to the next; one
 * that fails after its first byte, or with a 4xx, does not. The serving target is reported.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionDocument, ChatCompletionStreamDocument, type ChatRole } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeSse } from './helpers/graphql.js';

let openai: FakeProvider;
let groq: FakeProvider;
let gw: TestGateway;

const FALLBACKS = {
  'after-503': ['openai/fail-503', 'groq/llama'],
  'after-429': ['openai/fail-429', 'groq/llama'],
  'after-refused': ['mistral/any', 'groq/llama'],
  'after-reset': ['openai/reset', 'groq/llama'],
  'after-timeout': ['openai/hang', 'groq/llama'],
  'after-400': ['openai/fail-400', 'groq/llama'],
  'after-malformed': ['openai/malformed', 'groq/llama'],
  'after-cut-stream': ['openai/cut-stream', 'groq/llama'],
  'three-deep': ['openai/fail-500', 'openai/fail-502', 'groq/llama'],
  'all-fail': ['openai/fail-502', 'openai/fail-503'],
  'first-disallowed': ['openai/o1', 'groq/llama'],
  'none-allowed': ['openai/o1'],
  healthy: ['openai/gpt-4o', 'groq/llama'],
};

beforeAll(async () => {
  openai = await startFakeProvider({ apiKey: 'ok', models: ['gpt-4o'] });
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gk', models: ['llama'] });
  gw = await startTestGateway({
    OPENAI_API_URL: openai.url,
    OPENAI_API_KEY: 'ok',
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'gk',
    // Nothing listens here: connection refused.
    MISTRAL_API_URL: `http://127.0.0.1:${await closedPort()}/v1`,
    MISTRAL_API_KEY: 'mk',
    SERVER_READ_TIMEOUT: '400ms',
    DISALLOWED_MODELS: 'openai/o1',
    MODEL_FALLBACKS: JSON.stringify(FALLBACKS),
  });
});
afterAll(async () => {
  await gw.close();
  await Promise.all([openai.close(), groq.close()]);
});

const HI = [{ role: 'user', content: 'hi' }];
const chat = (model: string, extra: Record<string, unknown> = {}) => postJson(`${gw.url}/v1/chat/completions`, { model, messages: HI, ...extra });

describe('the first target fails before answering: the next one serves', () => {
  it.each([
    ['after-503', '5xx'],
    ['after-429', '429'],
    ['after-refused', 'connection refused'],
    ['after-reset', 'connection reset before the answer'],
    ['after-timeout', 'no answer within SERVER_READ_TIMEOUT'],
  ])('%s (%s)', async (alias) => {
    const before = groq.requests.length;
    const res = await chat(alias);
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.content).toBe('You said: hi');
    expect(res.headers.get('x-gateway-provider')).toBe('groq');
    expect(res.headers.get('x-gateway-model')).toBe('llama');
    expect(res.headers.get('x-gateway-alias')).toBe(alias);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(groq.requests.length).toBe(before + 1);
    // The serving target received its own model name, not the alias.
    expect(groq.requests.at(-1)!.json.model).toBe('llama');
  });

  it('walks as far down the list as it must, counting each hand-over', async () => {
    const res = await chat('three-deep');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-attempts')).toBe('3');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('gateway_fallbacks_total{alias="three-deep",failed_target="openai/fail-500",error_type="UPSTREAM_ERROR"} 1');
    expect(metrics).toContain('gateway_fallbacks_total{alias="three-deep",failed_target="openai/fail-502",error_type="UPSTREAM_ERROR"} 1');
    expect(gw.logs()).toContain('"msg":"fallback: trying the next target"');
  });

  it('does the same for a stream that has not started', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'after-503', messages: HI, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('groq');
    const frames = await readSseData(res);
    expect(frames.at(-1)).toBe('[DONE]');
  });

  it('does not try the first target again, nor a later one, once one has served', async () => {
    const openaiBefore = openai.requests.length;
    const groqBefore = groq.requests.length;
    const res = await chat('healthy');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    expect(openai.requests.length).toBe(openaiBefore + 1);
    expect(groq.requests.length).toBe(groqBefore);
  });
});

describe('no fallback', () => {
  it('when the first target refuses the request itself (4xx): its error, unchanged', async () => {
    const before = groq.requests.length;
    const res = await chat('after-400');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'openai: fake failure 400' });
    expect(groq.requests.length).toBe(before);
  });

  it('when the first target answered and then broke (malformed body): 502, no retry', async () => {
    const before = groq.requests.length;
    const res = await chat('after-malformed');
    expect(res.status).toBe(502);
    expect(groq.requests.length).toBe(before);
  });

  it('when a stream fails after its first byte: the error ends the stream, no retry', async () => {
    const before = groq.requests.length;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'after-cut-stream', messages: HI, stream: true }),
    });
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    const frames = await readSseData(res);
    expect(frames).not.toContain('[DONE]');
    expect(JSON.parse(frames.at(-1)!).error).toMatch(/^openai: /);
    expect(groq.requests.length).toBe(before);
  });

  it('when every target fails: the last target error', async () => {
    const res = await chat('all-fail');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: 'openai: fake failure 503' });
  });
});

describe('policy', () => {
  it('skips targets the gateway does not allow, and refuses an alias with none allowed', async () => {
    const served = await chat('first-disallowed');
    expect(served.status).toBe(200);
    expect(served.headers.get('x-gateway-provider')).toBe('groq');
    expect(served.headers.get('x-gateway-attempts')).toBe('1');
    const refused = await chat('none-allowed');
    expect(refused.status).toBe(403);
    expect(refused.json.error).toBe("Model alias 'none-allowed': no target is allowed (Model 'openai/o1' is not allowed on this gateway)");
  });

  it('names the aliases when a model names no provider', async () => {
    const res = await chat('unknown-model');
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('or a model alias (after-503, after-429');
  });
});

describe('GraphQL', () => {
  it('reports the serving target in extensions.gateway', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'after-503', messages: [{ role: 'USER' as ChatRole, content: 'hi' }] } });
    expect(res.data?.chatCompletion?.provider).toBe('groq');
    expect((res as any).extensions).toEqual({ gateway: { calls: [{ provider: 'groq', model: 'llama', alias: 'after-503', attempts: 2 }] } });
  });

  it('reports it per operation in a batch (served by Yoga, not the fast path)', async () => {
    const op = (model: string) => ({ query: `mutation { chatCompletion(input: { model: "${model}", messages: [{ role: USER, content: "hi" }] }) { provider } }` });
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([op('after-503'), op('healthy')]),
    });
    const [first, second] = await res.json();
    expect(first.extensions).toEqual({ gateway: { calls: [{ provider: 'groq', model: 'llama', alias: 'after-503', attempts: 2 }] } });
    expect(second.extensions).toEqual({ gateway: { calls: [{ provider: 'openai', model: 'gpt-4o', alias: 'healthy', attempts: 1 }] } });
  });

  it('reports it on the first event of a subscription', async () => {
    const { results, events } = await subscribeSse(gw.url, ChatCompletionStreamDocument, {
      input: { model: 'after-429', messages: [{ role: 'USER' as ChatRole, content: 'hi' }] },
    });
    expect(events[0]!.extensions).toEqual({ gateway: { calls: [{ provider: 'groq', model: 'llama', alias: 'after-429', attempts: 2 }] } });
    expect(events.slice(1).every((e) => e.extensions === undefined)).toBe(true);
    expect(results.length).toBeGreaterThan(2);
    expect(results.every((r) => r.chatCompletionStream.provider === 'groq')).toBe(true);
  });
});

describe('configuration', () => {
  it('refuses targets of unknown or unconfigured providers at start-up', async () => {
    const { loadConfig } = await import('../src/config.js');
    expect(() => loadConfig({ MODEL_FALLBACKS: '{"smart":["nope/x"]}' })).toThrow(/MODEL_FALLBACKS: alias "smart" names unknown provider 'nope'/);
    expect(() => loadConfig({ MODEL_FALLBACKS: '{"smart":["openai/gpt-4o"]}' })).toThrow(
      /targets "openai\/gpt-4o", but provider 'openai' is not configured \(set OPENAI_API_KEY\)/,
    );
    expect(() => loadConfig({ MODEL_FALLBACKS: '{"smart":["gpt-4o"]}' })).toThrow(/each target is provider\/model/);
  });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
