/**
 * OpenTelemetry traces, received by a real OTLP/HTTP receiver on loopback (protobuf and JSON decoded
 * from the wire): a SERVER span per request and per WebSocket operation, a CLIENT span per provider
 * call attempt with the GenAI attributes, the caller's trace continued, the provider handed the
 * CLIENT span's `traceparent`, no message content unless asked for, and a collector that is down or
 * stuck never failing a request.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient as createWsClient } from 'graphql-ws';
import { ConfigError, loadConfig } from '../src/config.js';
import { ChatCompletionDocument, ChatCompletionStreamDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer } from './fakes/oidc-issuer.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fakes/otlp-receiver.js';
import { postJson, readSseData, spawnGateway, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeSse, subscribeWs } from './helpers/graphql.js';

let receiver: OtlpReceiver;
let openai: FakeProvider;
let groq: FakeProvider;
let gw: TestGateway;

/** A prompt that must never reach a span unless content capture is on. */
const SECRET = 'the launch code is 0000';
const HI = [{ role: 'user', content: SECRET }];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  openai = await startFakeProvider({ apiKey: 'sk-openai-key', models: ['gpt-4o'] });
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gsk-groq-key', models: ['llama'] });
  gw = await startTestGateway({
    OPENAI_API_URL: openai.url,
    OPENAI_API_KEY: 'sk-openai-key',
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'gsk-groq-key',
    MODEL_FALLBACKS: JSON.stringify({ smart: ['openai/fail-503', 'groq/llama'] }),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '20',
    OTEL_SERVICE_NAME: 'gateway-under-test',
  });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([receiver?.close(), openai?.close(), groq?.close()]);
});

const newTrace = () => ({ traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') });
const traceparent = (t: { traceId: string; parentId: string }) => `00-${t.traceId}-${t.parentId}-01`;

/** The spans of one trace once `count` of them (and a SERVER span) have arrived. */
async function traceSpans(traceId: string, count: number): Promise<ReceivedSpan[]> {
  const mine = (spans: ReceivedSpan[]) => spans.filter((s) => s.traceId === traceId);
  const spans = await receiver.waitFor((all) => mine(all).length >= count && mine(all).some((s) => s.kind === 'SERVER'));
  return mine(spans);
}

const serverOf = (spans: ReceivedSpan[]) => {
  const servers = spans.filter((s) => s.kind === 'SERVER');
  expect(servers).toHaveLength(1);
  return servers[0]!;
};
const clientsOf = (spans: ReceivedSpan[]) => spans.filter((s) => s.kind === 'CLIENT').sort((a, b) => Number(a.attributes['gateway.attempt']) - Number(b.attributes['gateway.attempt']));

/** The traceparent a fake provider received for the request that carried `traceId`. */
function providerTraceparents(fake: FakeProvider, traceId: string): string[] {
  return fake.requests.map((r) => String(r.headers.traceparent ?? '')).filter((h) => h.includes(traceId));
}

function expectNoContent(spans: ReceivedSpan[]) {
  const text = JSON.stringify(spans.map((s) => [s.attributes, s.events]));
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('You said');
  expect(text).not.toContain('gen_ai.input.messages');
  expect(text).not.toContain('gen_ai.output.messages');
  // Keys never: neither the providers' nor anything that looks like a bearer token.
  expect(text).not.toContain('sk-openai-key');
  expect(text).not.toContain('gsk-groq-key');
  expect(text).not.toContain('Bearer');
}

describe('REST chat', () => {
  it('a root SERVER span with the request, and one CLIENT span per provider call with the GenAI attributes', async () => {
    const requestId = `req-${randomBytes(6).toString('hex')}`;
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI, temperature: 0.5, max_tokens: 50 }, { 'x-request-id': requestId });
    expect(res.status).toBe(200);

    const all = await receiver.waitFor((spans) => spans.some((s) => s.attributes['gateway.request_id'] === requestId));
    const server = all.find((s) => s.attributes['gateway.request_id'] === requestId)!;
    const spans = await traceSpans(server.traceId, 2);
    expect(server.parentSpanId).toBe('');
    expect(server).toMatchObject({
      name: 'POST /v1/chat/completions',
      kind: 'SERVER',
      encoding: 'protobuf',
      status: { code: 'UNSET' },
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/v1/chat/completions',
        'url.path': '/v1/chat/completions',
        'http.response.status_code': 200,
      },
      resource: { 'service.name': 'gateway-under-test' },
    });

    const [client, ...more] = clientsOf(spans);
    expect(more).toHaveLength(0);
    expect(client!.parentSpanId).toBe(server.spanId);
    expect(client).toMatchObject({
      name: 'chat gpt-4o',
      kind: 'CLIENT',
      status: { code: 'UNSET' },
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o',
        'gen_ai.response.id': 'chatcmpl-fake123',
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': res.json.usage.prompt_tokens,
        'gen_ai.usage.output_tokens': res.json.usage.completion_tokens,
        'gen_ai.request.temperature': 0.5,
        'gen_ai.request.max_tokens': 50,
        'server.address': '127.0.0.1',
        'server.port': Number(new URL(openai.url).port),
        'gateway.attempt': 1,
      },
    });
    expect(client!.attributes).not.toHaveProperty('error.type');
    expect(server.attributes).not.toHaveProperty('enduser.id'); // auth is off: no subject
    expect(client!.startNs >= server.startNs && client!.endNs <= server.endNs).toBe(true);

    // The provider's request carried the CLIENT span's context.
    expect(providerTraceparents(openai, server.traceId)).toEqual([`00-${server.traceId}-${client!.spanId}-01`]);
    // The log line names the trace and the SERVER span.
    const line = gw.logs().split('\n').find((l) => l.includes(requestId) && l.includes('"msg":"request"'))!;
    expect(JSON.parse(line)).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
    expectNoContent(spans);
  });

  it("continues the caller's traceparent and tracestate, and passes the state on to the provider", async () => {
    const t = newTrace();
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI }, { traceparent: traceparent(t), tracestate: 'app=checkout' });
    expect(res.status).toBe(200);
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    expect(server.parentSpanId).toBe(t.parentId);
    expect(server.traceState).toBe('app=checkout');
    const [client] = clientsOf(spans);
    expect(client!.parentSpanId).toBe(server.spanId);
    const upstream = openai.requests.find((r) => String(r.headers.traceparent).includes(t.traceId))!;
    expect(upstream.headers.traceparent).toBe(`00-${t.traceId}-${client!.spanId}-01`);
    expect(upstream.headers.tracestate).toBe('app=checkout');
  });

  it('a streamed chat: the CLIENT span has the time to first chunk and ends with the stream', async () => {
    const t = newTrace();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: traceparent(t) },
      body: JSON.stringify({ model: 'openai/gpt-4o', stream: true, messages: HI }),
    });
    const frames = await readSseData(res);
    expect(frames.at(-1)).toBe('[DONE]');
    const usage = JSON.parse(frames.at(-2)!).usage;
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    const [client] = clientsOf(spans);
    expect(client).toMatchObject({
      name: 'chat gpt-4o',
      parentSpanId: server.spanId,
      status: { code: 'UNSET' },
      attributes: {
        'gen_ai.request.stream': true,
        'gen_ai.response.model': 'gpt-4o',
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': usage.prompt_tokens,
        'gen_ai.usage.output_tokens': usage.completion_tokens,
      },
    });
    expect(client!.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(client!.events.map((e) => e.name)).toContain('gen_ai.first_chunk');
    expect(client!.endNs <= server.endNs).toBe(true);
    expectNoContent(spans);
  });

  it('a stream cut by the provider: the CLIENT span ends in error with error.type', async () => {
    const t = newTrace();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: traceparent(t) },
      body: JSON.stringify({ model: 'openai/cut-stream', stream: true, messages: HI }),
    });
    const frames = await readSseData(res);
    expect(frames.at(-1)).toContain('error');
    const [client] = clientsOf(await traceSpans(t.traceId, 2));
    expect(client).toMatchObject({ name: 'chat cut-stream', status: { code: 'ERROR' }, attributes: { 'error.type': 'UPSTREAM_ERROR' } });
    expect(client!.events.map((e) => e.name)).toContain('gen_ai.first_chunk');
  });

  it('a fallback: one CLIENT span per attempt under the one SERVER span, the failed one in error', async () => {
    const t = newTrace();
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'smart', messages: HI }, { traceparent: traceparent(t) });
    expect(res.status).toBe(200);
    const spans = await traceSpans(t.traceId, 3);
    const server = serverOf(spans);
    const [first, second] = clientsOf(spans);
    expect(first).toMatchObject({
      name: 'chat fail-503',
      parentSpanId: server.spanId,
      status: { code: 'ERROR' },
      attributes: { 'gen_ai.provider.name': 'openai', 'gateway.attempt': 1, 'gateway.alias': 'smart', 'error.type': '503' },
    });
    expect(second).toMatchObject({
      name: 'chat llama',
      parentSpanId: server.spanId,
      status: { code: 'UNSET' },
      attributes: { 'gen_ai.provider.name': 'groq', 'gateway.attempt': 2, 'gen_ai.response.model': 'llama', 'server.port': Number(new URL(groq.url).port) },
    });
    expect(second!.attributes).not.toHaveProperty('error.type');
    expect(first!.endNs <= second!.startNs).toBe(true);
    // Times are high-resolution, starts included (the SDK's own default starts spans at whole
    // milliseconds, which let an attempt seem to end after the next one began).
    expect(spans.filter((s) => s.startNs % 1_000_000n !== 0n).length).toBeGreaterThan(1);
    // Each attempt's provider request carried its own span.
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${first!.spanId}-01`]);
    expect(providerTraceparents(groq, t.traceId)).toEqual([`00-${t.traceId}-${second!.spanId}-01`]);
  });

  it('an upstream failure: the CLIENT span has the status as error.type, the SERVER span the 5xx', async () => {
    const t = newTrace();
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/fail-500', messages: HI }, { traceparent: traceparent(t) });
    expect(res.status).toBe(500);
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    const [client] = clientsOf(spans);
    expect(client).toMatchObject({ status: { code: 'ERROR', message: expect.stringContaining('fake failure 500') }, attributes: { 'error.type': '500' } });
    expect(server).toMatchObject({ status: { code: 'ERROR' }, attributes: { 'http.response.status_code': 500, 'error.type': '500' } });
  });

  it("a provider's 4xx is the CLIENT span's error, not the SERVER span's", async () => {
    const t = newTrace();
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/fail-400', messages: HI }, { traceparent: traceparent(t) });
    expect(res.status).toBe(400);
    const spans = await traceSpans(t.traceId, 2);
    expect(clientsOf(spans)[0]).toMatchObject({ status: { code: 'ERROR' }, attributes: { 'error.type': '400' } });
    expect(serverOf(spans)).toMatchObject({ status: { code: 'UNSET' }, attributes: { 'http.response.status_code': 400 } });
  });

  it('embeddings: operation embeddings', async () => {
    const t = newTrace();
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'openai/text-embedding-3-small', input: ['a', 'b'] }, { traceparent: traceparent(t) });
    expect(res.status).toBe(200);
    const [client] = clientsOf(await traceSpans(t.traceId, 2));
    expect(client).toMatchObject({
      name: 'embeddings text-embedding-3-small',
      attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'text-embedding-3-small', 'gen_ai.usage.input_tokens': res.json.usage.prompt_tokens },
    });
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${client!.spanId}-01`]);
  });
});

describe('GraphQL', () => {
  it('a mutation: the SERVER span is named after the operation, its provider call under it', async () => {
    const t = newTrace();
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: SECRET }] } }, { traceparent: traceparent(t) });
    expect(res.data?.chatCompletion?.provider).toBe('openai');
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    expect(server).toMatchObject({
      name: 'mutation ChatCompletion',
      parentSpanId: t.parentId,
      attributes: { 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'ChatCompletion', 'http.route': '/graphql', 'http.response.status_code': 200 },
    });
    const [client] = clientsOf(spans);
    expect(client).toMatchObject({ name: 'chat gpt-4o', parentSpanId: server.spanId, attributes: { 'gen_ai.usage.output_tokens': res.data!.chatCompletion!.usage!.completionTokens } });
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${client!.spanId}-01`]);
    expectNoContent(spans);
  });

  it('an anonymous mutation is named after its root field', async () => {
    const t = newTrace();
    const res = await gql(gw.url, `mutation { chatCompletion(input: {model: "openai/gpt-4o", messages: [{role: USER, content: "hi"}]}) { id } }`, undefined, { traceparent: traceparent(t) });
    expect(res.errors).toBeUndefined();
    const server = serverOf(await traceSpans(t.traceId, 2));
    expect(server.name).toBe('mutation chatCompletion');
    expect(server.attributes).not.toHaveProperty('graphql.operation.name');
  });

  it('a subscription over SSE: SERVER span, streamed CLIENT span under it', async () => {
    const t = newTrace();
    const { results, errors } = await subscribeSse(gw.url, ChatCompletionStreamDocument, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: SECRET }] } }, { traceparent: traceparent(t) });
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(1);
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    expect(server).toMatchObject({ name: 'subscription ChatCompletionStream', parentSpanId: t.parentId, attributes: { 'graphql.operation.type': 'subscription' } });
    const [client] = clientsOf(spans);
    expect(client).toMatchObject({ name: 'chat gpt-4o', parentSpanId: server.spanId, attributes: { 'gen_ai.request.stream': true, 'gen_ai.response.finish_reasons': ['stop'] } });
    expect(client!.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${client!.spanId}-01`]);
    expectNoContent(spans);
  });

  it("a subscription over WebSocket: one SERVER span per operation, continuing the upgrade request's trace", async () => {
    const t = newTrace();
    // graphql-ws takes no headers; the upgrade request carries the caller's traceparent.
    class TracedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { traceparent: traceparent(t) } });
      }
    }
    const client = createWsClient({ url: `${gw.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: TracedWebSocket, retryAttempts: 0, lazy: true });
    try {
      const input = { model: 'openai/gpt-4o', messages: [{ role: 'USER' as const, content: SECRET }] };
      const first = await subscribeWs(client, ChatCompletionStreamDocument, { input });
      const second = await subscribeWs(client, ChatCompletionStreamDocument, { input: { ...input, model: 'groq/llama' } });
      expect(first.errors).toEqual([]);
      expect(second.errors).toEqual([]);
    } finally {
      await client.dispose();
    }
    const spans = await receiver.waitFor((all) => all.filter((s) => s.traceId === t.traceId).length >= 4).then((all) => all.filter((s) => s.traceId === t.traceId));
    const servers = spans.filter((s) => s.kind === 'SERVER');
    expect(servers).toHaveLength(2);
    for (const server of servers) {
      expect(server).toMatchObject({
        name: 'subscription ChatCompletionStream',
        parentSpanId: t.parentId,
        attributes: { 'gateway.transport': 'websocket', 'gateway.outcome': 'complete', 'graphql.operation.type': 'subscription' },
      });
    }
    const clients = clientsOf(spans);
    expect(clients.map((c) => c.name).sort()).toEqual(['chat gpt-4o', 'chat llama']);
    for (const c of clients) expect(servers.map((s) => s.spanId)).toContain(c.parentSpanId);
    expect(new Set(clients.map((c) => c.parentSpanId)).size).toBe(2);
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${clients.find((c) => c.name === 'chat gpt-4o')!.spanId}-01`]);
    expect(providerTraceparents(groq, t.traceId)).toEqual([`00-${t.traceId}-${clients.find((c) => c.name === 'chat llama')!.spanId}-01`]);
    expectNoContent(spans);
    const lines = gw.logs().split('\n').filter((l) => l.includes('graphql-ws operation') && l.includes(t.traceId));
    expect(lines).toHaveLength(2);
  });
});

describe('message content', () => {
  let capturing: TestGateway;
  let jsonReceiver: OtlpReceiver;
  beforeAll(async () => {
    jsonReceiver = await startOtlpReceiver();
    capturing = await startTestGateway({
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'sk-openai-key',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${jsonReceiver.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    });
  });
  afterAll(async () => {
    await capturing?.close();
    await jsonReceiver?.close();
  });

  it('goes into spans only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true (here over OTLP/JSON)', async () => {
    const t = newTrace();
    const res = await postJson(`${capturing.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: [{ role: 'system', content: 'be brief' }, ...HI] }, { traceparent: traceparent(t) });
    expect(res.status).toBe(200);
    const spans = await jsonReceiver.waitFor((all) => all.filter((s) => s.traceId === t.traceId).length >= 2).then((all) => all.filter((s) => s.traceId === t.traceId));
    expect(spans.every((s) => s.encoding === 'json')).toBe(true);
    expect(jsonReceiver.requests.every((r) => r.contentType.startsWith('application/json'))).toBe(true);
    const client = spans.find((s) => s.kind === 'CLIENT')!;
    expect(client.resource['service.name']).toBe('graphql-inference-gateway');
    expect(JSON.parse(String(client.attributes['gen_ai.input.messages']))).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: SECRET }] },
    ]);
    expect(JSON.parse(String(client.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: `You said: ${SECRET}` }], finish_reason: 'stop' },
    ]);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('sk-openai-key');
  });

  it('a stream: the completion text gathered from its chunks', async () => {
    const t = newTrace();
    const res = await fetch(`${capturing.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: traceparent(t) },
      body: JSON.stringify({ model: 'openai/gpt-4o', stream: true, messages: HI }),
    });
    await readSseData(res);
    const spans = await jsonReceiver.waitFor((all) => all.filter((s) => s.traceId === t.traceId).length >= 2).then((all) => all.filter((s) => s.traceId === t.traceId));
    const client = spans.find((s) => s.kind === 'CLIENT')!;
    expect(JSON.parse(String(client.attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: `You said: ${SECRET}` }], finish_reason: 'stop' },
    ]);
  });
});

describe('other doors', () => {
  it("the Responses API and images: each provider request carries its CLIENT span's traceparent", async () => {
    for (const [path, body, name] of [
      ['/v1/responses', { model: 'openai/gpt-4o', input: SECRET }, 'chat gpt-4o'],
      ['/v1/responses', { model: 'openai/gpt-4o', input: SECRET, stream: true }, 'chat gpt-4o'],
      ['/v1/images/generations', { model: 'openai/gpt-image-1', prompt: SECRET }, 'image_generation gpt-image-1'],
    ] as const) {
      const t = newTrace();
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: traceparent(t) }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      await res.text();
      const spans = await traceSpans(t.traceId, 2);
      const [client] = clientsOf(spans);
      expect(client!.name).toBe(name);
      expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${client!.spanId}-01`]);
      expectNoContent(spans);
    }
  });

  it("Anthropic's Messages API, translated: a chat CLIENT span with the request's parameters", async () => {
    const t = newTrace();
    const res = await postJson(
      `${gw.url}/v1/messages`,
      { model: 'openai/gpt-4o', max_tokens: 64, stop_sequences: ['END'], messages: [{ role: 'user', content: SECRET }] },
      { traceparent: traceparent(t), 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const spans = await traceSpans(t.traceId, 2);
    expect(serverOf(spans).name).toBe('POST /v1/messages');
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${clientsOf(spans)[0]!.spanId}-01`]);
    expect(clientsOf(spans)[0]).toMatchObject({
      name: 'chat gpt-4o',
      attributes: { 'gen_ai.request.max_tokens': 64, 'gen_ai.request.stop_sequences': ['END'], 'gen_ai.usage.input_tokens': res.json.usage.input_tokens + res.json.usage.cache_read_input_tokens },
    });
    expectNoContent(spans);
  });
});

describe('proxy and auth', () => {
  it('/proxy: a CLIENT span of its own, whose traceparent replaces the caller\'s', async () => {
    const t = newTrace();
    const res = await fetch(`${gw.url}/proxy/openai/echo?x=1`, { method: 'POST', headers: { traceparent: traceparent(t) }, body: 'raw' });
    expect(res.status).toBe(200);
    const spans = await traceSpans(t.traceId, 2);
    const server = serverOf(spans);
    expect(server.attributes['http.route']).toBe('/proxy/{provider}');
    const [client] = clientsOf(spans);
    expect(client).toMatchObject({
      name: 'POST',
      parentSpanId: server.spanId,
      attributes: { 'http.request.method': 'POST', 'url.path': '/echo', 'http.response.status_code': 200, 'gateway.provider': 'openai', 'server.address': '127.0.0.1' },
    });
    expect(providerTraceparents(openai, t.traceId)).toEqual([`00-${t.traceId}-${client!.spanId}-01`]);
  });

  it('with auth on, the SERVER span names the subject and client; the token never appears', async () => {
    const idp = await startOidcIssuer();
    const sink = await startOtlpReceiver();
    const app = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: idp.issuer,
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'sk-openai-key',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_BSP_SCHEDULE_DELAY: '10',
    });
    try {
      const token = await idp.token({ sub: 'user-42', azp: 'billing-app' });
      const t = newTrace();
      const res = await postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI }, { authorization: `Bearer ${token}`, traceparent: traceparent(t) });
      expect(res.status).toBe(200);
      const spans = await sink.waitFor((all) => all.filter((s) => s.traceId === t.traceId).length >= 2).then((all) => all.filter((s) => s.traceId === t.traceId));
      expect(serverOf(spans).attributes).toMatchObject({ 'enduser.id': 'user-42', 'gateway.client_id': 'billing-app' });
      expect(JSON.stringify(spans.map((s) => [s.attributes, s.events]))).not.toContain(token.split('.')[2]!);
      expectNoContent(spans);
    } finally {
      await app.close();
      await Promise.all([sink.close(), idp.close()]);
    }
  });
});

describe('the collector is down or stuck', () => {
  it('stopped (connection refused): requests, streams and GraphQL still answer', async () => {
    const gone = await startOtlpReceiver();
    await gone.close(); // its port now refuses connections
    const app = await startTestGateway({ OPENAI_API_URL: openai.url, OPENAI_API_KEY: 'sk-openai-key', OTEL_EXPORTER_OTLP_ENDPOINT: gone.url, OTEL_BSP_SCHEDULE_DELAY: '10', OTEL_EXPORTER_OTLP_TIMEOUT: '500' });
    try {
      expect(app.gateway.tracing.enabled).toBe(true);
      for (let i = 0; i < 5; i++) {
        expect((await postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI })).status).toBe(200);
        const res = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'openai/gpt-4o', stream: true, messages: HI }) });
        expect((await readSseData(res)).at(-1)).toBe('[DONE]');
        await new Promise((r) => setTimeout(r, 20)); // let exports be tried (and fail) in between
      }
      const res = await gql(app.url, ChatCompletionDocument, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'hi' }] } });
      expect(res.data?.chatCompletion?.provider).toBe('openai');
    } finally {
      await app.close();
    }
    // The failed exports were reported in the gateway's own log, not thrown at requests.
    expect(app.logs()).toContain('tracing:');
  });

  it('stuck (accepts, never answers) with a full queue: requests still answer, spans are dropped', async () => {
    const stuck = await startOtlpReceiver({ hang: true });
    const app = await startTestGateway({
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'sk-openai-key',
      OTEL_EXPORTER_OTLP_ENDPOINT: stuck.url,
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_BSP_MAX_QUEUE_SIZE: '4',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    });
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, () => postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI })));
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      expect(stuck.requests.length).toBeGreaterThan(0); // exports were attempted, and hang
      expect(stuck.spans).toHaveLength(0);
      // Once a timed-out export frees the queue, the next span in reports how many were dropped.
      await new Promise((r) => setTimeout(r, 700));
      expect((await postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI })).status).toBe(200);
      expect(app.logs()).toMatch(/tracing: Dropped \d+ spans because maxQueueSize reached/);
    } finally {
      await app.close(); // bounded by the export timeout, though the collector never answers
      await stuck.close();
    }
  });
});

describe('tracing off', () => {
  it('without an endpoint: no spans, no traceparent of its own to providers, no trace ids in the log', async () => {
    const app = await startTestGateway({ OPENAI_API_URL: openai.url, OPENAI_API_KEY: 'sk-openai-key' });
    try {
      expect(app.gateway.tracing.enabled).toBe(false);
      const requestId = `off-${randomBytes(6).toString('hex')}`;
      const before = openai.requests.length;
      expect((await postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI }, { 'x-request-id': requestId })).status).toBe(200);
      const upstream = openai.requests.slice(before);
      expect(upstream).toHaveLength(1);
      expect(upstream[0]!.headers).not.toHaveProperty('traceparent');
      await new Promise((r) => setTimeout(r, 50));
      const line = app.logs().split('\n').find((l) => l.includes(requestId))!;
      expect(JSON.parse(line)).not.toHaveProperty('trace_id');
    } finally {
      await app.close();
    }
  });

  it('does not load the OpenTelemetry SDK at all (it is loaded once an endpoint is set)', async () => {
    const loaded = async (env: Record<string, string>) => {
      const script = `
        import { createRequire } from 'node:module';
        const { loadConfig } = await import('./src/config.ts');
        const { startGateway } = await import('./src/server.ts');
        const app = await startGateway(loadConfig({ SERVER_PORT: '0', USAGE_DATABASE_URL: 'off', LOG_LEVEL: 'silent', ...${JSON.stringify(env)} }));
        const modules = Object.keys(createRequire(import.meta.url).cache).filter((m) => m.includes('@opentelemetry/sdk-trace') || m.includes('exporter-trace-otlp'));
        await app.close();
        console.log('SDK_MODULES=' + modules.length);`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { PATH: process.env.PATH, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      await once(child, 'exit');
      return Number(/SDK_MODULES=(\d+)/.exec(out)?.[1]);
    };
    const [off, on] = await Promise.all([loaded({}), loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })]);
    expect(off).toBe(0);
    expect(on).toBeGreaterThan(0);
  });

  it.each([
    ['OTEL_SDK_DISABLED', 'true'],
    ['OTEL_TRACES_EXPORTER', 'none'],
  ])('%s=%s switches it off even with an endpoint', async (name, value) => {
    const app = await startTestGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, [name]: value });
    try {
      expect(app.gateway.tracing.enabled).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('OTEL_TRACES_SAMPLER=always_off: requests are not exported, providers still get a (not sampled) traceparent', async () => {
    const sink = await startOtlpReceiver();
    const app = await startTestGateway({ OPENAI_API_URL: openai.url, OPENAI_API_KEY: 'sk-openai-key', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '10', OTEL_TRACES_SAMPLER: 'always_off' });
    try {
      const before = openai.requests.length;
      expect((await postJson(`${app.url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI })).status).toBe(200);
      expect(String(openai.requests[before]!.headers.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.spans).toHaveLength(0);
    } finally {
      await app.close();
      await sink.close();
    }
  });
});

describe('configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.join('\n');
      throw error;
    }
    return '';
  };

  it('off unless an endpoint is set; the standard variables read', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'graphql-inference-gateway',
      sampler: 'parentbased_always_on',
      captureMessageContent: false,
    });
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/custom/traces',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3D%3D,team=ml',
      OTEL_SERVICE_NAME: 'edge-gateway',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(tracing).toMatchObject({
      endpoint: 'https://collector.example/custom/traces',
      protocol: 'http/json',
      headers: { 'api-key': 'abc==', team: 'ml' },
      serviceName: 'edge-gateway',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL="grpc" must be http\/protobuf or http\/json \(gRPC is not supported/],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="thrift" must be/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http\(s\) URL/],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER="sometimes" must be one of always_on/],
    [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG="1.5" must be a number from 0 to 1/],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER="zipkin" is not supported/],
    [{ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'maybe' }, /OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="maybe" is not a boolean/],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'secret-without-equals' }, /OTEL_EXPORTER_OTLP_HEADERS: an entry is not key=value/],
  ])('%o stops start-up naming the variable', (env, message) => {
    const text = problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...env } as Record<string, string>);
    expect(text).toMatch(message);
    expect(text).not.toContain('secret-without-equals');
  });
});

describe('the process', () => {
  it('SIGTERM exports the spans still queued before it exits', async () => {
    const sink = await startOtlpReceiver();
    const { child, url } = await spawnGateway({
      USAGE_DATABASE_URL: 'off',
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'sk-openai-key',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      // Nothing would be exported for a minute: only the shutdown flush can deliver these spans.
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    try {
      const t = newTrace();
      expect((await postJson(`${url}/v1/chat/completions`, { model: 'openai/gpt-4o', messages: HI }, { traceparent: traceparent(t) })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.spans).toHaveLength(0);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      const spans = sink.spans.filter((s) => s.traceId === t.traceId);
      expect(spans.map((s) => s.kind).sort()).toEqual(['CLIENT', 'SERVER']);
      expect(spans.find((s) => s.kind === 'SERVER')!.parentSpanId).toBe(t.parentId);
    } finally {
      child.kill('SIGKILL');
      await sink.close();
    }
  });
});
