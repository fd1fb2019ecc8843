/**
 * /metrics (Prometheus text, OpenTelemetry GenAI names) and the per-request log line, after a known
 * sequence of requests: each value below follows from that sequence and the fake's usage.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChatCompletionDocument, ChatCompletionStreamDocument, type ChatRole } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeWs, wsClient } from './helpers/graphql.js';

const PROVIDER_KEY = 'sk-provider-secret-4c1d9e';
let idp: OidcIssuer;
let groq: FakeProvider;
let gw: TestGateway;
let tokenA: string;
let tokenB: string;
let tokenC: string;
let metrics: string;

// The fake's usage for [{"role":"user","content":"hi"}]: 32 prompt, 12 completion ("You said: hi").
const HI = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  idp = await startOidcIssuer();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: PROVIDER_KEY, models: ['llama'] });
  gw = await startTestGateway({ ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer, GROQ_API_URL: groq.url, GROQ_API_KEY: PROVIDER_KEY, ENVIRONMENT: 'production' });
  [tokenA, tokenB, tokenC] = await Promise.all([idp.token({ azp: 'client-a' }), idp.token({ azp: 'client-b' }), idp.token({ azp: 'client-c' })]);
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  // The known sequence.
  for (let i = 0; i < 2; i++) expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/llama', messages: HI }, as(tokenA))).status).toBe(200);
  const mutation = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/llama', messages: [{ role: 'USER' as ChatRole, content: 'hi' }] } }, as(tokenB));
  expect(mutation.data?.chatCompletion?.usage?.totalTokens).toBe(44);
  const stream = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...as(tokenA) },
    body: JSON.stringify({ model: 'groq/llama', messages: HI, stream: true }),
  });
  expect((await readSseData(stream)).at(-1)).toBe('[DONE]');
  expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/fail-500', messages: HI }, as(tokenB))).status).toBe(500);
  const ws = wsClient(gw.url, { Authorization: `Bearer ${tokenC}` });
  const { results } = await subscribeWs(ws, ChatCompletionStreamDocument, { input: { model: 'groq/llama', messages: [{ role: 'USER' as ChatRole, content: 'hi' }] } });
  expect(results.at(-1)?.chatCompletionStream.usage?.totalTokens).toBe(44);
  await ws.dispose();

  const res = await fetch(`${gw.url}/metrics`); // no token: scraped like /health
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  metrics = await res.text();
});
afterAll(async () => {
  await gw.close();
  await Promise.all([groq.close(), idp.close()]);
});

describe('/metrics after a known sequence', () => {
  const llama = { gen_ai_provider_name: 'groq', gen_ai_request_model: 'llama' };

  it('counts tokens per subject, provider, model and type (prompt = input, completion = output)', () => {
    const tokens = (subject: string, type: string) => value(metrics, 'gateway_subject_tokens_total', { subject, ...llama, gen_ai_token_type: type });
    expect(tokens('client-a', 'input')).toBe(96); // 2 JSON + 1 stream
    expect(tokens('client-a', 'output')).toBe(36);
    expect(tokens('client-b', 'input')).toBe(32); // the GraphQL mutation
    expect(tokens('client-b', 'output')).toBe(12);
    expect(tokens('client-c', 'input')).toBe(32); // the WebSocket subscription
  });

  it('keeps the OpenTelemetry token usage histogram', () => {
    const usage = { gen_ai_operation_name: 'chat', ...llama, gen_ai_token_type: 'input' };
    expect(value(metrics, 'gen_ai_client_token_usage_count', usage)).toBe(5);
    expect(value(metrics, 'gen_ai_client_token_usage_sum', usage)).toBe(160);
    expect(metrics).toContain('# TYPE gen_ai_client_token_usage histogram');
  });

  it('counts requests per subject and outcome, and provider errors by type', () => {
    expect(value(metrics, 'gateway_subject_requests_total', { subject: 'client-a', ...llama, outcome: 'ok' })).toBe(3);
    expect(value(metrics, 'gateway_subject_requests_total', { subject: 'client-b', gen_ai_request_model: 'fail-500', outcome: 'upstream_error' })).toBe(1);
    expect(value(metrics, 'gen_ai_client_operation_duration_seconds_count', { ...llama, error_type: '' })).toBe(5);
    expect(value(metrics, 'gen_ai_client_operation_duration_seconds_count', { gen_ai_request_model: 'fail-500', error_type: 'UPSTREAM_ERROR' })).toBe(1);
  });

  it('observes time to first chunk for each stream (REST and WebSocket)', () => {
    expect(value(metrics, 'gen_ai_server_time_to_first_token_seconds_count', llama)).toBe(2);
  });

  it('observes HTTP requests by route and status, and the gateway overhead per transport', () => {
    expect(value(metrics, 'http_server_request_duration_seconds_count', { http_route: '/v1/chat/completions', http_response_status_code: '200' })).toBe(3);
    expect(value(metrics, 'http_server_request_duration_seconds_count', { http_route: '/v1/chat/completions', http_response_status_code: '500' })).toBe(1);
    expect(value(metrics, 'http_server_request_duration_seconds_count', { http_route: '/graphql' })).toBe(1);
    expect(value(metrics, 'gateway_overhead_seconds_count', { transport: 'rest' })).toBe(4);
    expect(value(metrics, 'gateway_overhead_seconds_count', { transport: 'graphql' })).toBe(1);
    const overhead = value(metrics, 'gateway_overhead_seconds_sum', { transport: 'rest' });
    const total = value(metrics, 'http_server_request_duration_seconds_sum', { http_route: '/v1/chat/completions' });
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(total);
  });

  it('includes process metrics', () => {
    expect(value(metrics, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
  });
});

describe('overhead excludes the provider time', () => {
  it('a slow stream (40 ms between chunks) adds its duration to the request, not to the overhead', async () => {
    const before = await scrape();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenA}` },
      body: JSON.stringify({ model: 'groq/paced-stream', messages: HI, stream: true }),
    });
    await readSseData(res);
    const after = await scrape();
    const delta = (name: string, labels: Labels) => value(after, name, labels) - value(before, name, labels);
    const duration = delta('http_server_request_duration_seconds_sum', { http_route: '/v1/chat/completions' });
    const overhead = delta('gateway_overhead_seconds_sum', { transport: 'rest' });
    expect(duration).toBeGreaterThan(0.1); // several 40 ms gaps
    expect(overhead).toBeLessThan(duration / 2);
  });
});

describe('the request log line', () => {
  it('has id, subject, client, provider, model, status, latency and tokens', () => {
    const lines = gw.logs().trim().split('\n').map((l) => JSON.parse(l));
    const chat = lines.filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.status === 200 && l.client === 'client-a');
    expect(chat.length).toBeGreaterThanOrEqual(3);
    expect(chat[0]).toMatchObject({
      level: 30,
      method: 'POST',
      provider: 'groq',
      model: 'llama',
      promptTokens: 32,
      completionTokens: 12,
      subject: expect.any(String),
    });
    expect(chat[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(chat[0].ms).toBeGreaterThanOrEqual(chat[0].upstreamMs);
    const failed = lines.find((l) => l.msg === 'request' && l.status === 500);
    expect(failed).toMatchObject({ client: 'client-b', model: 'fail-500', error: 'UPSTREAM_ERROR' });
    const ws = lines.find((l) => l.msg === 'graphql-ws operation');
    expect(ws).toMatchObject({ transport: 'websocket', client: 'client-c', provider: 'groq', model: 'llama', promptTokens: 32, completionTokens: 12 });
  });

  it('estimates the tokens of a stream its client left before the usage chunk, and charges them', async () => {
    const before = value(await scrape(), 'gateway_subject_tokens_total', { subject: 'client-c', gen_ai_request_model: 'paced-stream' });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenC}`, 'x-request-id': 'left-early-1' },
      body: JSON.stringify({ model: 'groq/paced-stream', messages: [{ role: 'user', content: 'tell me a long story please' }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk
    const aborted = groq.nextAbort();
    controller.abort();
    await aborted;
    const line = await logLine('left-early-1');
    expect(line).toMatchObject({ tokensEstimated: true, promptTokens: Math.ceil('tell me a long story please'.length / 4), error: 'CLIENT_CLOSED_REQUEST' });
    const after = value(await scrape(), 'gateway_subject_tokens_total', { subject: 'client-c', gen_ai_request_model: 'paced-stream' });
    expect(after - before).toBeGreaterThanOrEqual(7);
  });

  it('does the same for a GraphQL subscription over SSE whose client left', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${tokenC}`, 'x-request-id': 'left-early-2' },
      body: JSON.stringify({
        query: 'subscription { chatCompletionStream(input: { model: "groq/paced-stream", messages: [{ role: USER, content: "tell me a long story please" }] }) { id } }',
      }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: next')) text += new TextDecoder().decode((await reader.read()).value);
    const aborted = groq.nextAbort();
    controller.abort();
    await aborted;
    const line = await logLine('left-early-2');
    expect(line).toMatchObject({ path: '/graphql', provider: 'groq', model: 'paced-stream', tokensEstimated: true, promptTokens: 7 });
  });

  it('never contains the bearer tokens or the provider key', () => {
    const logs = gw.logs();
    expect(logs).not.toContain(PROVIDER_KEY);
    for (const token of [tokenA, tokenB, tokenC]) {
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(token.split('.')[2]); // not even the signature
    }
  });
});

describe('METRICS_ENABLED=false', () => {
  it('leaves /metrics unserved', async () => {
    const off = await startTestGateway({ METRICS_ENABLED: 'false' });
    try {
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});

type Labels = Record<string, string>;

/** The request log line with this id, once it has been written (after the handler has finished). */
function logLine(id: string): Promise<Record<string, unknown>> {
  return vi.waitFor(() => {
    const line = gw.logs().trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.id === id);
    if (!line) throw new Error(`no log line with id ${id} yet`);
    return line;
  });
}

async function scrape(): Promise<string> {
  return (await fetch(`${gw.url}/metrics`)).text();
}

/** The sum of every series of `name` whose labels include `labels` (Prometheus text format). */
function value(text: string, name: string, labels: Labels): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const series: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) series[l[1]!] = l[2]!;
    if (Object.entries(labels).every(([k, v]) => series[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('the request-path series (src/telemetry/series.ts)', () => {
  it('render exactly as prom-client renders its own histogram and counter', async () => {
    const { Counter, Histogram, Registry } = await import('prom-client');
    const { CounterSeries, HistogramSeries } = await import('../src/telemetry/series.js');
    const ours = new Registry();
    const theirs = new Registry();
    const buckets = [0.001, 0.01, 0.1, 1];
    const h1 = new HistogramSeries('h_seconds', 'help h', ['a', 'b'], buckets, ours);
    const c1 = new CounterSeries('c_total', 'help c', ['a'], ours);
    const h2 = new Histogram({ name: 'h_seconds', help: 'help h', labelNames: ['a', 'b'], buckets, registers: [theirs] });
    const c2 = new Counter({ name: 'c_total', help: 'help c', labelNames: ['a'], registers: [theirs] });
    for (const [a, b, v] of [['x', 'y', 0.0005], ['x', 'y', 0.01], ['x', 'z', 5], ['q"uote', 'y', 0.5]] as const) {
      h1.observe([a, b], v);
      h2.observe({ a, b }, v);
      c1.inc([a], v);
      c2.inc({ a }, v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
