/**
 * Subscription events run compiled (graphql-jit) on the gateway's direct transports — POST over SSE
 * and WebSocket — and interpreted on Yoga's own path (GET over SSE). The same documents must give
 * the same results either way, event for event: aliases, __typename, fragments, @include/@skip on
 * variables, enum variables (the case graphql-jit's own subscribe gets wrong), enums, JSON scalars,
 * tool-call deltas, usage, and the error that ends a stream broken mid-way.
 */
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runsCompiled } from '../src/graphql/compiled-subscriptions.js';
import { createGraphQLServer } from '../src/graphql/yoga.js';
import { schema } from '../src/schema/index.js';
import { SUBSCRIPTION } from '../bench/lib.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gk' });
  gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'gk' });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

const DOCUMENT = `
subscription Stream($model: String!, $role: ChatRole!, $content: String!, $withUsage: Boolean!, $skipFingerprint: Boolean = true, $tools: [ToolInput!], $logprobs: Boolean) {
  stream: chatCompletionStream(input: { model: $model, messages: [{ role: $role, content: $content }], tools: $tools, logprobs: $logprobs, topLogprobs: 1 }) {
    __typename
    ...Ids
    choices {
      i: index
      finishReason
      logprobs
      delta {
        ... on ChatDelta { role content }
        toolCalls { index id type function { name arguments } }
      }
    }
    usage @include(if: $withUsage) { promptTokens completionTokens totalTokens }
    systemFingerprint @skip(if: $skipFingerprint)
  }
}
fragment Ids on ChatCompletionChunk { id model provider }`;

type Frame = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** Every `event: next` payload of a GraphQL-over-SSE response, in order. */
async function sseFrames(res: Response): Promise<Frame[]> {
  expect(res.status).toBe(200);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('event: next'))
    .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Frame);
}

const compiledSse = async (variables: Record<string, unknown>) =>
  sseFrames(
    await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: DOCUMENT, variables, operationName: 'Stream' }),
    }),
  );

const interpretedSse = async (variables: Record<string, unknown>) => {
  const params = new URLSearchParams({ query: DOCUMENT, variables: JSON.stringify(variables), operationName: 'Stream' });
  return sseFrames(await fetch(`${gw.url}/graphql?${params}`, { headers: { accept: 'text/event-stream' } }));
};

/** One subscription on a WebSocket (graphql-transport-ws): its `next` payloads, and an `error` message's errors as a last frame. */
const compiledWs = (variables: Record<string, unknown>) =>
  new Promise<Frame[]>((resolve, reject) => {
    const frames: Frame[] = [];
    const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: DOCUMENT, variables, operationName: 'Stream' } }));
      else if (message.type === 'next') frames.push(message.payload as Frame);
      else if (message.type === 'error') frames.push({ errors: message.payload as Frame['errors'] });
      if (message.type === 'complete' || message.type === 'error') {
        ws.close();
        resolve(frames);
      }
    });
    ws.on('error', reject);
  });

/**
 * Yoga's path gives the error that ends a broken stream the operation's `locations`; the direct
 * transports word it from the stream's failure, which has none (as before events were compiled).
 */
const withoutLocations = (frames: Frame[]) =>
  frames.map((f) => (f.errors ? { ...f, errors: f.errors.map(({ locations: _locations, ...e }: Record<string, unknown>) => e) } : f));

const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };
const cases: [string, Record<string, unknown>][] = [
  ['text, usage included, enum variable', { model: 'groq/m', role: 'USER', content: 'one two three', withUsage: true }],
  ['usage left out, fingerprint kept (@skip false)', { model: 'groq/m', role: 'USER', content: 'hello there', withUsage: false, skipFingerprint: false }],
  ['tool-call deltas', { model: 'groq/m', role: 'USER', content: 'weather?', withUsage: true, tools: [weatherTool] }],
  ['logprobs (a JSON scalar) per chunk', { model: 'groq/m', role: 'SYSTEM', content: 'a b', withUsage: true, logprobs: true }],
  ['a stream broken mid-way ends with its error', { model: 'groq/error-stream', role: 'USER', content: 'x', withUsage: true }],
];

describe('compiled subscription events answer exactly as the interpreter does', () => {
  it.each(cases)('%s', async (_name, variables) => {
    const interpreted = await interpretedSse(variables);
    expect(interpreted.length).toBeGreaterThan(1);
    const [sse, ws] = await Promise.all([compiledSse(variables), compiledWs(variables)]);
    expect(withoutLocations(sse)).toEqual(withoutLocations(interpreted));
    expect(withoutLocations(ws)).toEqual(withoutLocations(interpreted));
  });

  it('the documents above reach every kind of field they name (so the comparison is not vacuous)', async () => {
    const frames = await compiledSse(cases[3]![1]);
    const first = (frames[0]!.data as { stream: Record<string, unknown> }).stream;
    expect(first).toMatchObject({ __typename: 'ChatCompletionChunk', provider: 'groq', choices: [{ i: 0, delta: { role: 'ASSISTANT' } }] });
    expect(frames.some((f) => (f.data as { stream: { choices: { logprobs: unknown }[] } }).stream.choices[0]?.logprobs)).toBe(true);
    const last = (frames.at(-1)!.data as { stream: { usage: { totalTokens: number } } }).stream;
    expect(last.usage.totalTokens).toBeGreaterThan(0);
    const broken = await compiledSse(cases[4]![1]);
    expect(broken.at(-1)!.errors?.[0]).toMatchObject({ message: 'groq: fake overloaded mid-stream', extensions: { code: 'UPSTREAM_ERROR' } });
  });
});

/** One subscription over the direct path (POST, compiled) and over Yoga's own (GET, interpreted): status and body of each. */
async function overBoth(document: string, variables: Record<string, unknown>, operationName: string) {
  const post = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: document, variables, operationName }),
  });
  const params = new URLSearchParams({ query: document, variables: JSON.stringify(variables), operationName });
  const get = await fetch(`${gw.url}/graphql?${params}`, { headers: { accept: 'text/event-stream' } });
  return { post: { status: post.status, text: await post.text() }, get: { status: get.status, text: await get.text() } };
}

describe('refused variables on the direct SSE path', () => {
  it.each([
    ['an enum value that does not exist', { model: 'groq/m', role: 'KING', content: 'x', withUsage: true }, /Variable "\$role" got invalid value "KING"/],
    ['a required variable left out', { model: 'groq/m', role: 'USER', withUsage: true }, /Variable "\$content" of required type "String!" was not provided/],
    ['a wrong type', { model: 'groq/m', role: 'USER', content: 'x', withUsage: 'yes' }, /Variable "\$withUsage" got invalid value "yes"/],
  ])('%s → BAD_USER_INPUT naming the variable, as over GET, and nothing reaches the provider', async (_name, variables, message) => {
    const before = groq.requests.length;
    const { post, get } = await overBoth(DOCUMENT, variables, 'Stream');
    expect(post.status).toBe(get.status);
    expect(post.text).toBe(get.text);
    const errors = post.text
      .split('\n\n')
      .filter((frame) => frame.startsWith('event: next'))
      .flatMap((frame) => (JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Frame).errors ?? []);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(groq.requests.length).toBe(before);
  });
});

describe('the direct subscribe (outside envelop\'s)', () => {
  it('takes the documents above, the bench\'s and a plain one; a root fragment goes through envelop', () => {
    const both = { events: true, source: true };
    expect(runsCompiled(schema, parse(DOCUMENT), 'Stream')).toEqual(both);
    expect(runsCompiled(schema, parse(SUBSCRIPTION), 'Stream')).toEqual(both);
    expect(runsCompiled(schema, parse('subscription { chatCompletionStream(input: { model: "m", messages: [] }) { id } }'))).toEqual(both);
    // A directive on the root field: graphql-js opens the source (it decides whether the field runs).
    const directive = 'subscription ($on: Boolean!) { chatCompletionStream(input: { model: "m", messages: [] }) @include(if: $on) { id } }';
    expect(runsCompiled(schema, parse(directive))).toEqual({ events: true, source: false });
    const rootFragment = 'subscription { ...S } fragment S on Subscription { chatCompletionStream(input: { model: "m", messages: [] }) { id } }';
    expect(runsCompiled(schema, parse(rootFragment))).toEqual({ events: false, source: false });
    expect(runsCompiled(schema, parse('query { models { id } }'))).toEqual({ events: false, source: false });
  });

  it('does the work of every plugin with an onSubscribe hook, and no new one has appeared unnoticed', () => {
    // The direct subscribe masks errors (useMaskedErrors, and the error reporter, whose internal
    // errors the mask logs), adds the calls extension (useCallExtensions) and names the span
    // (useOperationSpan, with tracing on); Yoga's engine, result processors and graphql-jit's
    // enableIf (false for subscriptions) have nothing to do for it. A plugin added to this list must
    // be handled in src/graphql/compiled-subscriptions.ts, then counted here.
    const hooks = (yoga: unknown) => ((yoga as { plugins: { onSubscribe?: unknown }[] }).plugins.filter((p) => p.onSubscribe).length);
    expect(hooks(createGraphQLServer(gw.gateway, gw.logger))).toBe(6);
    const traced = { ...gw.gateway, tracing: { ...gw.gateway.tracing, enabled: true } } as typeof gw.gateway;
    expect(hooks(createGraphQLServer(traced, gw.logger))).toBe(7);
  });

  it('a stream\'s first event carries the calls extension over SSE and WebSocket, later ones do not', async () => {
    const variables = { model: 'groq/llama-3.3-70b-versatile', role: 'USER', content: 'one two three', withUsage: true };
    for (const frames of [await compiledSse(variables), await compiledWs(variables)]) {
      expect(frames.length).toBeGreaterThan(2);
      expect((frames[0] as { extensions?: unknown }).extensions).toEqual({ gateway: { calls: [{ provider: 'groq', model: 'llama-3.3-70b-versatile', attempts: 1 }] } });
      for (const frame of frames.slice(1)) expect(frame).not.toHaveProperty('extensions');
    }
  });

  const INPUT_DOCUMENT = 'subscription Chat($input: ChatCompletionInput!) { s: chatCompletionStream(input: $input) { id choices { delta { content } } } }';
  const model = 'groq/llama-3.3-70b-versatile';

  it.each([
    ['a whole input object, content parts included', { model, messages: [{ role: 'USER', parts: [{ text: 'look' }, { imageUrl: { url: 'https://example.com/a.png', detail: 'LOW' } }] }] }, 200],
    ['a @oneOf part that sets two fields', { model, messages: [{ role: 'USER', parts: [{ text: 'a', imageUrl: { url: 'https://example.com/a.png' } }] }] }, undefined],
    ['a @oneOf part that sets none', { model, messages: [{ role: 'USER', parts: [{}] }] }, undefined],
    ['a provider that is not configured (the resolver fails: an error result)', { model: 'mistral/x', messages: [{ role: 'USER', content: 'x' }] }, 200],
  ])('%s: the same answer over POST (variables coerced by compiled code) as over GET (by graphql-js)', async (_name, input, status) => {
    const { post, get } = await overBoth(INPUT_DOCUMENT, { input }, 'Chat');
    expect(post.status).toBe(get.status);
    if (status) expect(post.status).toBe(status);
    expect(post.text).toBe(get.text);
    expect(post.text).toContain('event: next');
  });
});
