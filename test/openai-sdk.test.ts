/** The official OpenAI SDK works against the gateway unchanged: point baseURL at it, prefix the model. */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let groq: FakeProvider;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gsk', models: ['llama-3.3-70b-versatile'] });
  gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'gsk' });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused-when-auth-is-off', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

it('gets a completion', async () => {
  const completion = await client.chat.completions.create({
    model: 'groq/llama-3.3-70b-versatile',
    messages: [{ role: 'user', content: 'ping' }],
  });
  expect(completion.choices[0]!.message.content).toBe('You said: ping');
  expect(completion.usage?.total_tokens).toBeGreaterThan(0);
});

it('streams a completion, usage last', async () => {
  const stream = await client.chat.completions.create({
    model: 'groq/llama-3.3-70b-versatile',
    messages: [{ role: 'user', content: 'a b c' }],
    stream: true,
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  expect(text).toBe('You said: a b c');
  expect(usage?.completion_tokens).toBe('You said: a b c'.length);
});

it('lists models', async () => {
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  expect(ids).toEqual(['groq/llama-3.3-70b-versatile']);
});

it('surfaces an upstream error as an APIError with the status and message', async () => {
  const error = await client.chat.completions
    .create({ model: 'groq/fail-503', messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  expect(error.status).toBe(503);
  expect(error.message).toContain('groq: fake failure 503');
});

it('throws when a stream breaks mid-way instead of ending quietly', async () => {
  const stream = await client.chat.completions.create({
    model: 'groq/error-stream',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  const consume = async () => {
    for await (const _chunk of stream) {
      // drain
    }
  };
  await expect(consume()).rejects.toThrow(/fake overloaded mid-stream/);
});
