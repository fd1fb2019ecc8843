/**
 * POST /v1/messages end to end, with the real Anthropic SDK against a real gateway and fakes:
 * translated to chat completions for providers without the Messages API (groq), passed through for
 * those that serve it (anthropic below its base path, deepseek from its origin), tokens as
 * x-api-key or Bearer, errors in Anthropic's shape, and the gateway core (fallbacks, metrics, role
 * rules, budgets) counting this door like any other.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider, type RecordedRequest } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';

let groq: FakeProvider;
let anthropic: FakeProvider;
let deepseek: FakeProvider;
let gw: TestGateway;
let client: Anthropic;

const FALLBACKS = {
  'to-native': ['groq/fail-503', 'anthropic/claude-fb'],
  'to-translated': ['anthropic/fail-503', 'groq/llama-fb'],
};

beforeAll(async () => {
  groq = await startFakeProvider({ flavor: 'openai', basePath: '/openai/v1', apiKey: 'key-groq', models: ['llama'] });
  anthropic = await startFakeProvider({ flavor: 'anthropic', basePath: '/v1', apiKey: 'key-anthropic', models: ['claude-x'] });
  deepseek = await startFakeProvider({ flavor: 'openai', basePath: '', messagesPath: '/anthropic/v1/messages', apiKey: 'key-deepseek', models: ['deepseek-chat'] });
  gw = await startTestGateway({
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'key-groq',
    ANTHROPIC_API_URL: anthropic.url,
    ANTHROPIC_API_KEY: 'key-anthropic',
    DEEPSEEK_API_URL: deepseek.url,
    DEEPSEEK_API_KEY: 'key-deepseek',
    MODEL_FALLBACKS: JSON.stringify(FALLBACKS),
  });
  client = new Anthropic({ baseURL: gw.url, apiKey: 'client-key', authToken: null, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([groq, anthropic, deepseek].map((f) => f?.close()));
});

/** The last request a fake got on `path` (fails when there is none). */
function lastOn(fake: FakeProvider, path: string): RecordedRequest {
  const seen = fake.requests.filter((r) => r.path === path).at(-1);
  if (!seen) throw new Error(`the fake got no request on ${path}`);
  return seen;
}
const GROQ_CHAT = '/openai/v1/chat/completions';
const ANTHROPIC_MESSAGES = '/v1/messages';

/** An SSE body as its frames: event name and data text, in order. */
function frames(text: string): { event: string | undefined; data: string }[] {
  return text
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => {
      const lines = f.split('\n');
      return {
        event: lines.find((l) => l.startsWith('event: '))?.slice(7),
        data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'),
      };
    });
}

function postMessages(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** What a caught promise rejected with (fails when it resolved). */
async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the call succeeded');
}

/** A metric sample's value, or undefined when the series does not exist. */
function sample(metrics: string, name: string, labels: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
const metricsText = async (url: string) => (await fetch(`${url}/metrics`)).text();

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { location: { type: 'string' }, unit: { type: 'string' } }, required: ['location'] },
};

describe('translated path (groq: no native Messages API)', () => {
  it('a text answer, as an Anthropic message with usage, from a chat completion upstream', async () => {
    const { data: message, response } = await client.messages.create({ model: 'groq/llama', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    const seen = lastOn(groq, GROQ_CHAT);
    expect(seen.json).toEqual({ model: 'llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 100, stream: false });
    expect(seen.headers.authorization).toBe('Bearer key-groq');
    expect(seen.headers['x-api-key']).toBeUndefined();
    const prompt = JSON.stringify(seen.json.messages).length;
    const cached = Math.floor(prompt / 2);
    expect(message).toEqual({
      id: 'msg_chatcmpl-fake123',
      type: 'message',
      role: 'assistant',
      model: 'groq/llama',
      content: [{ type: 'text', text: 'You said: Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: prompt - cached, output_tokens: 'You said: Hello'.length, cache_read_input_tokens: cached, cache_creation_input_tokens: null },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-provider')).toBe('groq');
    expect(response.headers.get('x-gateway-model')).toBe('llama');
  });

  it('a system prompt becomes the system message', async () => {
    await client.messages.create({ model: 'groq/llama', max_tokens: 50, system: 'Be terse.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(lastOn(groq, GROQ_CHAT).json.messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('an image block reaches the upstream as an image_url part', async () => {
    const message = await client.messages.create({
      model: 'groq/llama',
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect(lastOn(groq, GROQ_CHAT).json.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ]);
    expect(message.content).toEqual([{ type: 'text', text: 'You said: (nothing)' }]);
  });

  it('tools: a tool_use answer, then a follow-up turn with the tool_result', async () => {
    const question = { role: 'user' as const, content: 'What is the weather in Paris?' };
    const first = await client.messages.create({ model: 'groq/llama', max_tokens: 200, tools: [WEATHER_TOOL], messages: [question] });
    expect(lastOn(groq, GROQ_CHAT).json.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: WEATHER_TOOL.input_schema } },
    ]);
    expect(first.content).toEqual([{ type: 'tool_use', id: 'call_fake1', name: 'get_weather', input: { location: 'Paris', unit: 'celsius' } }]);
    expect(first.stop_reason).toBe('tool_use');

    const second = await client.messages.create({
      model: 'groq/llama',
      max_tokens: 200,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'none' },
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fake1', content: '18°C and sunny' }] },
      ],
    });
    const seen = lastOn(groq, GROQ_CHAT).json;
    expect(seen.messages).toEqual([
      { role: 'user', content: 'What is the weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_fake1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_fake1', content: '18°C and sunny' },
    ]);
    expect(seen.tool_choice).toBe('none');
    expect(second.content).toEqual([{ type: 'text', text: 'You said: What is the weather in Paris?' }]);
    expect(second.stop_reason).toBe('end_turn');
  });

  it('tool_choice naming a tool, without parallel calls', async () => {
    await client.messages.create({
      model: 'groq/llama',
      max_tokens: 50,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    const seen = lastOn(groq, GROQ_CHAT).json;
    expect(seen.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(seen.parallel_tool_calls).toBe(false);
  });

  it('stop_sequences, temperature and metadata.user_id reach the upstream as stop, temperature and user', async () => {
    // temperature is sent as a plain field (this SDK version's types no longer list it).
    const params = { model: 'groq/llama', max_tokens: 50, stop_sequences: ['END', '###'], temperature: 0.25, metadata: { user_id: 'u-7' }, messages: [{ role: 'user' as const, content: 'x' }] };
    await client.messages.create(params);
    expect(lastOn(groq, GROQ_CHAT).json).toEqual({
      model: 'llama',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 50,
      temperature: 0.25,
      stop: ['END', '###'],
      user: 'u-7',
      stream: false,
    });
  });

  it('a refusal: its text, stop_reason refusal', async () => {
    const message = await client.messages.create({ model: 'groq/refuse', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    expect(message.content).toEqual([{ type: 'text', text: "I'm sorry, I can't help with that." }]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('messages.stream: text events and the final message', async () => {
    const stream = client.messages.stream({ model: 'groq/llama', max_tokens: 100, messages: [{ role: 'user', content: 'Hello there' }] });
    const texts: string[] = [];
    stream.on('text', (delta) => texts.push(delta));
    const message = await stream.finalMessage();
    const seen = lastOn(groq, GROQ_CHAT).json;
    expect(seen.stream).toBe(true);
    expect(seen.stream_options).toEqual({ include_usage: true });
    expect(texts).toEqual(['You ', 'said: ', 'Hello ', 'there']);
    const prompt = JSON.stringify(seen.messages).length;
    const cached = Math.floor(prompt / 2);
    // parsed_output and stop_details are the SDK's own additions to what it assembled.
    const { parsed_output: _parsed, stop_details: _details, ...assembled } = message as typeof message & { parsed_output?: unknown };
    expect(assembled).toEqual({
      id: 'msg_chatcmpl-fakestream',
      type: 'message',
      role: 'assistant',
      model: 'groq/llama',
      content: [{ type: 'text', text: 'You said: Hello there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: prompt - cached, output_tokens: 'You said: Hello there'.length, cache_read_input_tokens: cached, cache_creation_input_tokens: null },
    });
  });

  it('the raw stream is Anthropic\'s event sequence', async () => {
    const res = await postMessages(gw.url, { model: 'groq/llama', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got = frames(await res.text());
    expect(got.map((f) => f.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const f of got) expect(JSON.parse(f.data).type).toBe(f.event);
    expect(got.filter((f) => f.event === 'content_block_delta').map((f) => JSON.parse(f.data).delta)).toEqual([
      { type: 'text_delta', text: 'You ' },
      { type: 'text_delta', text: 'said: ' },
      { type: 'text_delta', text: 'Hi' },
    ]);
    expect(JSON.parse(got.at(-2)!.data).delta).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('a tool-use stream: input_json_delta pieces assembled into the final message\'s input', async () => {
    const stream = client.messages.stream({ model: 'groq/llama', max_tokens: 100, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather?' }] });
    const pieces: string[] = [];
    stream.on('inputJson', (partial) => pieces.push(partial));
    const message = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('{"location":"Paris","unit":"celsius"}');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_fake1', name: 'get_weather', input: { location: 'Paris', unit: 'celsius' } }]);
    expect(message.stop_reason).toBe('tool_use');
  });
});

describe('native path (providers that serve the Messages API)', () => {
  it('anthropic: the body as the client sent it but for model, cache_control and anthropic-beta kept, the provider key as x-api-key', async () => {
    const params = {
      model: 'anthropic/claude-x',
      max_tokens: 300,
      system: [{ type: 'text' as const, text: 'A long, cacheable preamble.', cache_control: { type: 'ephemeral' as const } }],
      messages: [
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello native', cache_control: { type: 'ephemeral' as const } }] },
      ],
      temperature: 0.5,
      top_k: 5,
    };
    const { data: message, response } = await client.messages.create(params, { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } }).withResponse();
    const seen = lastOn(anthropic, ANTHROPIC_MESSAGES);
    // The Messages API's stream flag is made explicit; everything else is the client's own.
    expect(seen.json).toEqual({ ...params, model: 'claude-x', stream: false });
    expect(seen.headers['x-api-key']).toBe('key-anthropic');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    expect(JSON.stringify(seen.headers)).not.toContain('client-key');
    expect(groq.requests.filter((r) => r.json?.model === 'claude-x')).toEqual([]);
    expect(message).toEqual({
      id: 'msg_fake123',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'You said: Hello native' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: JSON.stringify(params.messages).length, output_tokens: 'You said: Hello native'.length, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
  });

  it('anthropic: the answer is relayed as the provider wrote it', async () => {
    const body = { model: 'anthropic/claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'raw' }] };
    const viaGateway = await postJson(`${gw.url}/v1/messages`, body);
    const direct = await postJson(`${anthropic.url}/messages`, { ...body, model: 'claude-x', stream: false }, { 'x-api-key': 'key-anthropic', 'anthropic-version': '2023-06-01' });
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.text).toBe(direct.text);
  });

  it('anthropic: the stream is relayed event by event, ping included', async () => {
    const body = { model: 'anthropic/claude-x', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'stream me' }] };
    const res = await postMessages(gw.url, body, { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const viaGateway = await res.text();
    const seen = lastOn(anthropic, ANTHROPIC_MESSAGES);
    expect(seen.json).toEqual({ ...body, model: 'claude-x' });
    expect(seen.headers['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14');
    const direct = await fetch(`${anthropic.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'key-anthropic', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...body, model: 'claude-x' }),
    });
    expect(viaGateway).toBe(await direct.text());
    expect(frames(viaGateway).map((f) => f.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('anthropic: messages.stream with the SDK, text and tool use', async () => {
    const texts: string[] = [];
    const stream = client.messages.stream({ model: 'anthropic/claude-x', max_tokens: 20, messages: [{ role: 'user', content: 'stream me' }] });
    stream.on('text', (t) => texts.push(t));
    const message = await stream.finalMessage();
    expect(texts).toEqual(['You ', 'said: ', 'stream ', 'me']);
    expect(message.content).toEqual([{ type: 'text', text: 'You said: stream me' }]);
    expect(message.usage).toMatchObject({ input_tokens: JSON.stringify([{ role: 'user', content: 'stream me' }]).length, output_tokens: 'You said: stream me'.length });

    const tools = client.messages.stream({ model: 'anthropic/claude-x', max_tokens: 20, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather?' }] });
    const pieces: string[] = [];
    tools.on('inputJson', (p) => pieces.push(p));
    const toolMessage = await tools.finalMessage();
    expect(pieces).toEqual(['{"locat', 'ion": "Par', 'is"}']);
    expect(toolMessage.content).toEqual([{ type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: { location: 'Paris' } }]);
    expect(toolMessage.stop_reason).toBe('tool_use');
  });

  it('deepseek: its endpoint is from the origin, and it gets the key both as x-api-key and as Bearer', async () => {
    const message = await client.messages.create({ model: 'deepseek/deepseek-chat', max_tokens: 20, messages: [{ role: 'user', content: 'Hi DeepSeek' }] });
    const seen = lastOn(deepseek, '/anthropic/v1/messages');
    expect(seen.headers['x-api-key']).toBe('key-deepseek');
    expect(seen.headers.authorization).toBe('Bearer key-deepseek');
    expect(seen.json).toEqual({ model: 'deepseek-chat', max_tokens: 20, messages: [{ role: 'user', content: 'Hi DeepSeek' }], stream: false });
    expect(deepseek.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    expect(message.content).toEqual([{ type: 'text', text: 'You said: Hi DeepSeek' }]);
    expect(message.model).toBe('deepseek-chat');
  });
});

describe('errors in Anthropic\'s shape', () => {
  it('missing max_tokens → 400 invalid_request_error (SDK BadRequestError)', async () => {
    const error = await rejection(client.messages.create({ model: 'groq/llama', messages: [{ role: 'user', content: 'x' }] } as any));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.status).toBe(400);
    expect(error.error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: must be a positive integer' } });
  });

  it('a translation problem → 400 naming the block', async () => {
    const error = await rejection(
      client.messages.create({ model: 'groq/llama', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }] }),
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.error.error.type).toBe('invalid_request_error');
    expect(error.error.error.message).toMatch(/^messages\.0\.content\.0\.source: a document by URL/);
  });

  it('a body that is not JSON → 400 in Anthropic\'s shape', async () => {
    const res = await postJson(`${gw.url}/v1/messages`, '{"model":');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('an unknown provider → 404 not_found_error; a model naming no provider → 400', async () => {
    const error = await rejection(client.messages.create({ model: 'llama', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, { query: { provider: 'nope' } }));
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.error).toEqual({ type: 'error', error: { type: 'not_found_error', message: expect.stringMatching(/^Unknown provider 'nope'/) } });
    const unprefixed = await rejection(client.messages.create({ model: 'nope/x', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }));
    expect(unprefixed.status).toBe(400);
    expect(unprefixed.error.error.type).toBe('invalid_request_error');
  });

  it('upstream 500 → 500 api_error, translated and native', async () => {
    const translated = await rejection(client.messages.create({ model: 'groq/fail-500', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }));
    expect(translated).toBeInstanceOf(Anthropic.InternalServerError);
    expect(translated.status).toBe(500);
    expect(translated.error).toEqual({ type: 'error', error: { type: 'api_error', message: 'groq: fake failure 500' } });
    const native = await rejection(client.messages.create({ model: 'anthropic/fail-500', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }));
    expect(native.status).toBe(500);
    expect(native.error).toEqual({ type: 'error', error: { type: 'api_error', message: 'anthropic: fake failure 500' } });
  });

  it('upstream 503 → 503 overloaded_error; a stream refused before it started is a plain error answer', async () => {
    const error = await rejection(client.messages.stream({ model: 'groq/fail-503', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error.status).toBe(503);
    expect(error.error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'groq: fake failure 503' } });
  });

  it('GET → 405 in Anthropic\'s shape', async () => {
    const res = await fetch(`${gw.url}/v1/messages`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'Method GET is not allowed here; use POST' } });
  });

  it('other routes keep the contract\'s error shape', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`);
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ error: 'Method GET is not allowed here; use POST' });
  });

  it('a stream that fails after it started ends with an error event', async () => {
    const res = await postMessages(gw.url, { model: 'groq/cut-stream', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(200);
    const got = frames(await res.text());
    expect(got.map((f) => f.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(JSON.parse(got.at(-1)!.data)).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringMatching(/^groq: /) } });

    const stream = client.messages.stream({ model: 'groq/cut-stream', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    const error = await rejection(stream.finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('a rate limit → 429 rate_limit_error with retry-after (SDK RateLimitError)', async () => {
    const limited = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'key-groq', RATE_LIMIT_REQUESTS_PER_MINUTE: '1' });
    try {
      const sdk = new Anthropic({ baseURL: limited.url, apiKey: 'k', authToken: null, maxRetries: 0 });
      const ask = () => sdk.messages.create({ model: 'groq/llama', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      expect((await ask()).content).toEqual([{ type: 'text', text: 'You said: x' }]);
      const error = await rejection(ask());
      expect(error).toBeInstanceOf(Anthropic.RateLimitError);
      expect(error.status).toBe(429);
      expect(error.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringMatching(/^Rate limit exceeded for 'anonymous': 1 requests per minute/) } });
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('the door goes through the gateway core', () => {
  it('a fallback alias whose first target fails with 503 is served by a native second target', async () => {
    const { data: message, response } = await client.messages.create({ model: 'to-native', max_tokens: 10, messages: [{ role: 'user', content: 'fall back' }] }).withResponse();
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(response.headers.get('x-gateway-alias')).toBe('to-native');
    expect(lastOn(groq, GROQ_CHAT).json.model).toBe('fail-503');
    expect(lastOn(anthropic, ANTHROPIC_MESSAGES).json.model).toBe('claude-fb');
    expect(message.content).toEqual([{ type: 'text', text: 'You said: fall back' }]);
  });

  it('… and by a translated second target, streamed too', async () => {
    const { data: message, response } = await client.messages.create({ model: 'to-translated', max_tokens: 10, messages: [{ role: 'user', content: 'fall back' }] }).withResponse();
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(response.headers.get('x-gateway-provider')).toBe('groq');
    expect(lastOn(anthropic, ANTHROPIC_MESSAGES).json.model).toBe('fail-503');
    expect(lastOn(groq, GROQ_CHAT).json.model).toBe('llama-fb');
    expect(message.content).toEqual([{ type: 'text', text: 'You said: fall back' }]);

    const res = await postMessages(gw.url, { model: 'to-translated', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'again' }] });
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(res.headers.get('x-gateway-provider')).toBe('groq');
    const got = frames(await res.text());
    expect(got.at(-1)!.event).toBe('message_stop');
    expect(got.filter((f) => f.event === 'content_block_delta').map((f) => JSON.parse(f.data).delta.text).join('')).toBe('You said: again');
  });

  it('metrics count each call as chat, with tokens from the Anthropic usage — translated and native, streamed and not', async () => {
    const ask = (model: string, content: string) => ({ model, max_tokens: 50, messages: [{ role: 'user' as const, content }] });
    // Translated, not streamed.
    await client.messages.create(ask('groq/metered-a', 'count me'));
    const a = lastOn(groq, GROQ_CHAT).json;
    // Translated, streamed.
    await client.messages.stream(ask('groq/metered-b', 'count me too')).finalMessage();
    const b = lastOn(groq, GROQ_CHAT).json;
    // Native, not streamed and streamed.
    await client.messages.create(ask('anthropic/metered-c', 'native count'));
    await client.messages.stream(ask('anthropic/metered-d', 'native stream count')).finalMessage();

    const expected: [string, string, number, number][] = [
      ['groq', 'metered-a', JSON.stringify(a.messages).length, 'You said: count me'.length],
      ['groq', 'metered-b', JSON.stringify(b.messages).length, 'You said: count me too'.length],
      ['anthropic', 'metered-c', JSON.stringify([{ role: 'user', content: 'native count' }]).length, 'You said: native count'.length],
      ['anthropic', 'metered-d', JSON.stringify([{ role: 'user', content: 'native stream count' }]).length, 'You said: native stream count'.length],
    ];
    const metrics = await metricsText(gw.url);
    for (const [provider, model, input, output] of expected) {
      const base = `gen_ai_operation_name="chat",gen_ai_provider_name="${provider}",gen_ai_request_model="${model}"`;
      expect(sample(metrics, 'gen_ai_client_operation_duration_seconds_count', `${base},error_type=""`), model).toBe(1);
      expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="input"`), `${model} input`).toBe(input);
      expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="output"`), `${model} output`).toBe(output);
      expect(sample(metrics, 'gateway_subject_requests_total', `subject="anonymous",gen_ai_provider_name="${provider}",gen_ai_request_model="${model}",outcome="ok"`)).toBe(1);
    }
  });

  it('a failed call is counted with its error type', async () => {
    await rejection(client.messages.create({ model: 'groq/fail-502', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }));
    const metrics = await metricsText(gw.url);
    expect(sample(metrics, 'gen_ai_client_operation_duration_seconds_count', 'gen_ai_operation_name="chat",gen_ai_provider_name="groq",gen_ai_request_model="fail-502",error_type="UPSTREAM_ERROR"')).toBe(1);
  });
});

describe('native usage with prompt caching', () => {
  // A Messages upstream whose usage carries cache reads and writes, reported the way Anthropic's
  // stream does: input and cache counters in message_start, output tokens in message_delta.
  let server: Server;
  let cached: TestGateway;
  const usage = { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 30 };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const request = JSON.parse(body);
        const message = { id: 'msg_c', type: 'message', role: 'assistant', model: request.model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null };
        if (!request.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ ...message, usage: { ...usage, output_tokens: 7 } }));
        }
        const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          event('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }) +
            event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
            event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'ok' } }) +
            event('content_block_stop', { index: 0 }) +
            event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }) +
            event('message_stop', {}),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // ollama: keyless, Messages API at /messages below its base path.
    cached = await startTestGateway({ OLLAMA_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
  });
  afterAll(async () => {
    await cached?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it.each([
    ['not streamed', 'cache-json', false],
    ['streamed', 'cache-stream', true],
  ])('%s: cache reads and writes count as input tokens', async (_name, model, stream) => {
    const sdk = new Anthropic({ baseURL: cached.url, apiKey: 'k', authToken: null, maxRetries: 0 });
    const params = { model: `ollama/${model}`, max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    const message = stream ? await sdk.messages.stream(params).finalMessage() : await sdk.messages.create(params);
    expect(message.usage).toMatchObject({ ...usage, output_tokens: 7 });
    const base = `gen_ai_operation_name="chat",gen_ai_provider_name="ollama",gen_ai_request_model="${model}"`;
    const metrics = await metricsText(cached.url);
    expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="input"`)).toBe(45);
    expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="output"`)).toBe(7);
  });
});

describe('a translated stream whose upstream never reports usage', () => {
  // An OpenAI-compatible upstream that ignores stream_options.include_usage: the gateway then
  // estimates (~4 characters a token), on this door as on the chat door, so budgets can't be dodged.
  let server: Server;
  let silent: TestGateway;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const request = JSON.parse(body);
        const chunk = (delta: object, finish: string | null = null) =>
          `data: ${JSON.stringify({ id: 'chatcmpl-silent', object: 'chat.completion.chunk', created: 1, model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'y'.repeat(20) }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    silent = await startTestGateway({ OPENAI_API_URL: `${origin}/v1`, OPENAI_API_KEY: 'k', DEEPSEEK_API_URL: origin, DEEPSEEK_API_KEY: 'k' });
  });
  afterAll(async () => {
    await silent?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('tokens are estimated from the text, as for a chat stream, not charged as zero', async () => {
    const content = 'x'.repeat(40);
    const chat = await fetch(`${silent.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/via-chat', stream: true, messages: [{ role: 'user', content }] }),
    });
    await chat.text();
    const sdk = new Anthropic({ baseURL: silent.url, apiKey: 'k', authToken: null, maxRetries: 0 });
    const message = await sdk.messages.stream({ model: 'openai/via-messages', max_tokens: 10, messages: [{ role: 'user', content }] }).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'y'.repeat(20) }]);
    const metrics = await metricsText(silent.url);
    for (const model of ['via-chat', 'via-messages']) {
      const base = `gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="${model}"`;
      expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="input"`), `${model} input`).toBe(10);
      expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="output"`), `${model} output`).toBe(5);
    }
  });

  it('the same on the Responses door, translated for a provider without the Responses API', async () => {
    const res = await fetch(`${silent.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek/via-responses', stream: true, input: 'x'.repeat(40) }),
    });
    expect(await res.text()).toContain('response.completed');
    const base = 'gen_ai_operation_name="chat",gen_ai_provider_name="deepseek",gen_ai_request_model="via-responses"';
    const metrics = await metricsText(silent.url);
    expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="input"`)).toBe(10);
    expect(sample(metrics, 'gen_ai_client_token_usage_sum', `${base},gen_ai_token_type="output"`)).toBe(5);
  });
});

describe('with auth on', () => {
  let idp: OidcIssuer;
  let secured: TestGateway;
  let token: string;

  beforeAll(async () => {
    idp = await startOidcIssuer();
    secured = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: idp.issuer,
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'key-groq',
      ANTHROPIC_API_URL: anthropic.url,
      ANTHROPIC_API_KEY: 'key-anthropic',
      MODEL_ACCESS_RULES: JSON.stringify({ 'llm-user': ['groq/*', 'anthropic/claude-ok'] }),
    });
    token = await idp.token();
  });
  afterAll(async () => {
    await secured?.close();
    await idp?.close();
  });

  /** An SDK client that notes the headers of each request it sends. */
  function recordingClient(auth: { apiKey?: string | null; authToken?: string | null; defaultHeaders?: Record<string, string> }) {
    const sent: Headers[] = [];
    const sdk = new Anthropic({
      baseURL: secured.url,
      apiKey: null,
      authToken: null,
      ...auth,
      maxRetries: 0,
      fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
        sent.push(new Headers(init?.headers));
        return fetch(url, init);
      },
    });
    return { sdk, sent };
  }
  const ask = { model: 'groq/llama', max_tokens: 10, messages: [{ role: 'user' as const, content: 'secured' }] };

  it('the token as x-api-key (how Anthropic clients send an API key) is let in, and never forwarded', async () => {
    // SDK 1.x sends even `apiKey` as a Bearer token; x-api-key is what earlier SDKs and other
    // Anthropic clients send, so send it as a header here to be sure that is what travels.
    const { sdk, sent } = recordingClient({ defaultHeaders: { 'x-api-key': token } });
    const message = await sdk.messages.create(ask);
    expect(sent.at(-1)!.get('x-api-key')).toBe(token);
    expect(sent.at(-1)!.get('authorization')).toBeNull();
    expect(message.content).toEqual([{ type: 'text', text: 'You said: secured' }]);
    const upstream = lastOn(groq, GROQ_CHAT);
    expect(upstream.headers.authorization).toBe('Bearer key-groq');
    expect(JSON.stringify(upstream)).not.toContain(token);
    expect((await sdk.messages.stream(ask).finalMessage()).content).toEqual([{ type: 'text', text: 'You said: secured' }]);
  });

  it('the SDK with apiKey: <token> is let in', async () => {
    const { sdk, sent } = recordingClient({ apiKey: token });
    const message = await sdk.messages.create(ask);
    // The installed SDK (1.x) sends an apiKey as a Bearer token.
    expect(sent.at(-1)!.get('authorization')).toBe(`Bearer ${token}`);
    expect(message.content).toEqual([{ type: 'text', text: 'You said: secured' }]);
  });

  it('the SDK with authToken: the token travels as Authorization: Bearer and is let in, streamed too', async () => {
    const { sdk, sent } = recordingClient({ authToken: token });
    const message = await sdk.messages.create(ask);
    expect(sent.at(-1)!.get('authorization')).toBe(`Bearer ${token}`);
    expect(sent.at(-1)!.get('x-api-key')).toBeNull();
    expect(message.content).toEqual([{ type: 'text', text: 'You said: secured' }]);
    expect((await sdk.messages.stream(ask).finalMessage()).content).toEqual([{ type: 'text', text: 'You said: secured' }]);
  });

  it('a native provider behind auth: the caller\'s x-api-key token is replaced by the provider key', async () => {
    const res = await postMessages(secured.url, { model: 'anthropic/claude-ok', max_tokens: 5, messages: [{ role: 'user', content: 'behind auth' }] }, { 'x-api-key': token });
    expect(res.status).toBe(200);
    expect((await res.json()).content).toEqual([{ type: 'text', text: 'You said: behind auth' }]);
    const upstream = lastOn(anthropic, ANTHROPIC_MESSAGES);
    expect(upstream.json.model).toBe('claude-ok');
    expect(upstream.headers['x-api-key']).toBe('key-anthropic');
    expect(JSON.stringify(upstream)).not.toContain(token);
  });

  it('a bad token → SDK AuthenticationError, 401 authentication_error', async () => {
    for (const auth of [{ apiKey: 'not-a-token' }, { authToken: 'not-a-token' }]) {
      const { sdk } = recordingClient(auth);
      const error = await rejection(sdk.messages.create(ask));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error.status).toBe(401);
      expect(error.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
    }
  });

  it('no token → 401 {"type":"error","error":{"type":"authentication_error",…}}', async () => {
    const res = await postMessages(secured.url, ask);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Authorization header missing' } });
    const empty = await postMessages(secured.url, ask, { 'x-api-key': '' });
    expect(empty.status).toBe(401);
  });

  it('x-api-key is a token only on the Messages door', async () => {
    const res = await fetch(`${secured.url}/v1/models`, { headers: { 'x-api-key': token } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Authorization header missing' });
  });

  it('role rules → 403 permission_error (SDK PermissionDeniedError)', async () => {
    const { sdk } = recordingClient({ apiKey: token });
    const error = await rejection(sdk.messages.create({ ...ask, model: 'anthropic/claude-x' }));
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(error.status).toBe(403);
    expect(error.error).toEqual({ type: 'error', error: { type: 'permission_error', message: "Model 'anthropic/claude-x' is not allowed for roles llm-user" } });
    expect(anthropic.requests.filter((r) => r.json?.model === 'claude-x' && r.headers['x-api-key'] === 'key-anthropic' && JSON.stringify(r.json).includes('secured'))).toEqual([]);
  });
});
