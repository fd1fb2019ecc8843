import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';

const GROQ_KEY = 'gsk-test-key-123';
let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: GROQ_KEY, models: ['llama-3.3-70b-versatile'] });
  gw = await startTestGateway({
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: GROQ_KEY,
    SERVER_READ_TIMEOUT: '1s',
    SERVER_WRITE_TIMEOUT: '1s',
    SERVER_MAX_REQUEST_BODY_SIZE: '4096',
  });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

const chat = (body: unknown, query = '', headers: Record<string, string> = {}) =>
  postJson(`${gw.url}/v1/chat/completions${query}`, body, headers);
const hello = [{ role: 'user', content: 'hello there' }];

describe('routing', () => {
  it('routes by ?provider= with a bare model name', async () => {
    const res = await chat({ model: 'llama-3.3-70b-versatile', messages: hello }, '?provider=groq');
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('chat.completion');
    expect(res.json.choices[0].message.content).toBe('You said: hello there');
    expect(groq.requests.at(-1)!.json.model).toBe('llama-3.3-70b-versatile');
  });

  it('routes by a provider/model prefix and strips it upstream', async () => {
    const res = await chat({ model: 'groq/llama-3.3-70b-versatile', messages: hello });
    expect(res.status).toBe(200);
    expect(groq.requests.at(-1)!.json.model).toBe('llama-3.3-70b-versatile');
    expect(groq.requests.at(-1)!.path).toBe('/openai/v1/chat/completions');
  });

  it('accepts the seed curl form (no content-type, form default) as JSON', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions?provider=groq`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ model: 'llama-3.2-3b-preview', messages: hello }),
    });
    expect(res.status).toBe(200);
  });

  it('says how to name a provider when neither prefix nor parameter is given', async () => {
    const res = await chat({ model: 'llama-3.3-70b-versatile', messages: hello });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/provider\/model/);
    expect(res.json.error).toMatch(/groq/);
  });

  it('answers 404 for an unknown provider', async () => {
    const res = await chat({ model: 'x', messages: hello }, '?provider=nope');
    expect(res.status).toBe(404);
    expect(res.json.error).toMatch(/Unknown provider 'nope'/);
  });

  it('answers 400 naming the variable for a known but unconfigured provider', async () => {
    const res = await chat({ model: 'openai/gpt-4o', messages: hello });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/OPENAI_API_KEY/);
  });

  it('answers 404 with the error shape for an unknown route', async () => {
    const res = await fetch(`${gw.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'No route for GET /v2/nothing' });
  });

  it('answers 405 with Allow for the wrong method', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('request validation', () => {
  it.each([
    ['not JSON', '{"model": ', /not valid JSON/],
    ['an empty body', '', /empty/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['no messages', { model: 'groq/m' }, /'messages' must be a non-empty array/],
    ['empty messages', { model: 'groq/m', messages: [] }, /'messages' must be a non-empty array/],
    ['messages of the wrong type', { model: 'groq/m', messages: 'hi' }, /'messages' must be a non-empty array/],
    ['a message without role', { model: 'groq/m', messages: [{ content: 'x' }] }, /messages\[0\]\.role/],
    ['a numeric content', { model: 'groq/m', messages: [{ role: 'user', content: 5 }] }, /messages\[0\]\.content/],
    ['no model', { messages: hello }, /'model' must be a non-empty string/],
    ['a string temperature', { model: 'groq/m', messages: hello, temperature: 'hot' }, /'temperature' must be a number/],
    ['a fractional max_tokens', { model: 'groq/m', messages: hello, max_tokens: 1.5 }, /'max_tokens' must be an integer/],
    ['a string stream flag', { model: 'groq/m', messages: hello, stream: 'yes' }, /'stream' must be true or false/],
  ])('rejects %s with 400 and a clear message, without calling upstream', async (_name, body, message) => {
    const before = groq.requests.length;
    const res = await chat(body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
    expect(groq.requests.length).toBe(before);
  });

  it('rejects a body over SERVER_MAX_REQUEST_BODY_SIZE with 413', async () => {
    const res = await chat({ model: 'groq/m', messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatch(/4096 bytes/);
  });

  it('keeps fields it does not know and passes them upstream', async () => {
    await chat({ model: 'groq/m', messages: hello, reasoning_effort: 'low', custom_thing: { a: 1 } });
    expect(groq.requests.at(-1)!.json).toMatchObject({ reasoning_effort: 'low', custom_thing: { a: 1 } });
  });
});

describe('credentials', () => {
  it("sends the provider's key upstream and never the caller's Authorization header", async () => {
    const res = await chat({ model: 'groq/m', messages: hello }, '', { authorization: 'Bearer caller-secret-token' });
    expect(res.status).toBe(200);
    const seen = groq.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(JSON.stringify(seen.headers)).not.toContain('caller-secret-token');
  });

  it("keeps the provider's key out of error messages and logs", async () => {
    const res = await chat({ model: 'groq/fail-500', messages: hello });
    expect(res.text).not.toContain(GROQ_KEY);
    expect(gw.logs()).not.toContain(GROQ_KEY);
  });
});

describe('upstream failures', () => {
  it("keeps an upstream 5xx status with the provider's message", async () => {
    const res = await chat({ model: 'groq/fail-503', messages: hello });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: 'groq: fake failure 503' });
  });

  it('keeps an upstream 429 and passes Retry-After on', async () => {
    const res = await chat({ model: 'groq/fail-429', messages: hello });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('answers 502 when the upstream drops the connection', async () => {
    const res = await chat({ model: 'groq/reset', messages: hello });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatch(/^groq: upstream unreachable/);
  });

  it('answers 502 when the upstream sends malformed JSON', async () => {
    const res = await chat({ model: 'groq/malformed', messages: hello });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatch(/malformed JSON/);
  });

  it('answers 504 when the upstream does not answer within SERVER_READ_TIMEOUT', async () => {
    const res = await chat({ model: 'groq/hang', messages: hello });
    expect(res.status).toBe(504);
    expect(res.json.error).toBe('groq: no response within 1s');
  });

  it('answers 504 when a JSON body trickles in past SERVER_READ_TIMEOUT in all', async () => {
    const res = await chat({ model: 'groq/trickle', messages: hello });
    expect(res.status).toBe(504);
    expect(res.json.error).toBe('groq: no response within 1s');
  });

  it('answers 504 when a stream does not start within SERVER_READ_TIMEOUT', async () => {
    const res = await chat({ model: 'groq/hang', messages: hello, stream: true });
    expect(res.status).toBe(504);
  });
});

describe('streaming', () => {
  it('relays every chunk in order, a final usage chunk, then [DONE]', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'one two three' }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = await readSseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('You said: one two three');
    expect(chunks.at(-1).usage).toMatchObject({ prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(groq.requests.at(-1)!.json.stream_options).toEqual({ include_usage: true });
  });

  it('relays tool-call deltas', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'groq/m',
        messages: hello,
        stream: true,
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      }),
    });
    const chunks = (await readSseData(res)).slice(0, -1).map((d) => JSON.parse(d));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: 'call_fake1', function: { name: 'get_weather' } });
    expect(JSON.parse(calls.map((c) => c.function?.arguments ?? '').join(''))).toEqual({ location: 'Paris', unit: 'celsius' });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it('ends a stream cut mid-way with an error event and no [DONE]', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/cut-stream', messages: hello, stream: true }),
    });
    const data = await readSseData(res);
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error).toMatch(/^groq: /);
  });

  it("ends a stream with the provider's in-band error as an error event", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/error-stream', messages: hello, stream: true }),
    });
    const data = await readSseData(res);
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error).toBe('groq: fake overloaded mid-stream');
  });

  it('ends a stream that goes silent past SERVER_WRITE_TIMEOUT with an error event', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/slow-stream', messages: hello, stream: true }),
    });
    const data = await readSseData(res);
    expect(JSON.parse(data.at(-1)!).error).toMatch(/no response within 1s/);
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const aborted = groq.nextAbort();
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/slow-stream', messages: hello, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk arrived: the stream is live
    controller.abort();
    const request = await aborted;
    expect(request.json.model).toBe('slow-stream');
  });

  it('aborts the upstream JSON call when the client disconnects while waiting for the answer', async () => {
    // A read timeout far past the test's own: only the client's going away can end the upstream call.
    const patient = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: GROQ_KEY, SERVER_READ_TIMEOUT: '10m' });
    try {
      const aborted = groq.nextAbort();
      const controller = new AbortController();
      const sent = fetch(`${patient.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'groq/hang', messages: hello }),
        signal: controller.signal,
      }).catch((error: Error) => error);
      while (!groq.requests.some((r) => r.json?.model === 'hang' && !groq.aborted.includes(r))) await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      expect(await sent).toBeInstanceOf(Error);
      const request = await aborted;
      expect(request.json.model).toBe('hang');
    } finally {
      await patient.close();
    }
  });
});

describe('upstream connections', () => {
  it('keeps the upstream connection for the next call after a stream ends with [DONE] (read to its end, not destroyed)', async () => {
    const own = await startFakeProvider({ basePath: '/v1', apiKey: 'ok' });
    const gateway = await startTestGateway({ OPENAI_API_URL: own.url, OPENAI_API_KEY: 'ok' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'openai/m', stream: true, messages: [{ role: 'user', content: `call ${i}` }] }),
        });
        const frames = await readSseData(res);
        expect(frames.at(-1)).toBe('[DONE]');
        expect(frames.join('')).toContain(`call ${i}`.split(' ')[1]);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the body's end reaches the pool
      }
      expect(own.requests.length).toBe(3);
      expect(own.connections).toBe(1);
    } finally {
      await gateway.close();
      await own.close();
    }
  });
});
