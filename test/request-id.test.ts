/** Every response carries an `x-request-id`: the caller's own when it sent a sane one, else a new one; the log line has it. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';

let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
  gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'k' });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

it('returns the caller request id on REST, GraphQL and errors, and logs it', async () => {
  const chat = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/m', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'abc-123' });
  expect(chat.headers.get('x-request-id')).toBe('abc-123');
  const graphql = await gql(gw.url, '{ providers { id } }', undefined, { 'x-request-id': 'gql-7' });
  expect(graphql.headers.get('x-request-id')).toBe('gql-7');
  const missing = await fetch(`${gw.url}/nowhere`, { headers: { 'x-request-id': 'err-9' } });
  expect(missing.headers.get('x-request-id')).toBe('err-9');
  const stream = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'x-request-id': 'sse-1' },
    body: JSON.stringify({ model: 'groq/m', messages: [{ role: 'user', content: 'x' }], stream: true }),
  });
  expect(stream.headers.get('x-request-id')).toBe('sse-1');
  await stream.text();
  expect(gw.logs()).toMatch(/"id":"abc-123"/);
});

it.each([
  ['none', undefined],
  ['one with spaces and quotes', 'bad id "x"'],
  ['one too long', 'x'.repeat(200)],
])('makes a new id when the caller sent %s', async (_name, sent) => {
  const res = await fetch(`${gw.url}/health`, { headers: sent ? { 'x-request-id': sent } : {} });
  const id = res.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(id).not.toBe(sent);
});
