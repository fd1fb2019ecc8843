/**
 * Provider keys and bearer tokens never reach logs (at any level), error messages or responses.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChatCompletionDocument, ChatCompletionStreamDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeSse, wsClient } from './helpers/graphql.js';

const PROVIDER_KEY = 'sk-provider-SECRET-0123456789';
const ANTHROPIC_KEY = 'sk-ant-SECRET-9876543210';
let idp: OidcIssuer;
let groq: FakeProvider;
let anthropic: FakeProvider;
let gw: TestGateway;
let token: string;
const responses: string[] = [];

beforeAll(async () => {
  process.env.LOG_LEVEL = 'trace';
  idp = await startOidcIssuer();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: PROVIDER_KEY });
  anthropic = await startFakeProvider({ flavor: 'anthropic', apiKey: 'a-different-key' }); // every call fails auth upstream
  gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: idp.issuer,
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: PROVIDER_KEY,
    ANTHROPIC_API_URL: anthropic.url,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ENVIRONMENT: 'development',
  });
  token = await idp.token({ sub: 'secret-test' });
  delete process.env.LOG_LEVEL;

  const auth = { authorization: `Bearer ${token}` };
  const messages = [{ role: 'user', content: 'hi' }];
  const record = (text: string) => responses.push(text);
  // Successes, upstream failures, auth failures, proxying, streaming, over every edge.
  for (const model of ['groq/ok', 'groq/fail-500', 'groq/fail-401', 'groq/reset', 'anthropic/claude', 'groq/error-stream']) {
    record((await postJson(`${gw.url}/v1/chat/completions`, { model, messages }, auth)).text);
    record(await (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model, messages, stream: true }) })).text());
    record(JSON.stringify(await gql(gw.url, ChatCompletionDocument, { input: { model, messages: [{ role: 'USER', content: 'hi' }] } }, auth)));
    record(JSON.stringify(await subscribeSse(gw.url, ChatCompletionStreamDocument, { input: { model, messages: [{ role: 'USER', content: 'hi' }] } }, auth)));
  }
  record(await (await fetch(`${gw.url}/v1/models`, { headers: auth })).text());
  record(await (await fetch(`${gw.url}/proxy/anthropic/models`, { headers: auth })).text());
  record(await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${token}x` } })).text());
  record(await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Basic ${token}` } })).text());
  const ws = wsClient(gw.url, { Authorization: `Bearer ${token}tampered` });
  record(JSON.stringify(await new Promise((resolve) => ws.subscribe({ query: print(ChatCompletionDocument) }, { next: resolve, error: resolve, complete: () => {} }))));
  await ws.dispose();
});
afterAll(async () => {
  await gw.close();
  await groq.close();
  await anthropic.close();
  await idp.close();
});

it('logged at the most verbose level for all of it (so the checks below saw everything)', () => {
  expect(gw.logger.level).toBe('trace');
  expect(gw.logs()).toMatch(/"level":20/);
  expect(gw.logs()).toMatch(/"subject":"secret-test"/);
});

it.each([
  ['the groq key', () => PROVIDER_KEY],
  ['the anthropic key', () => ANTHROPIC_KEY],
  ['the bearer token', () => token],
  ['the bearer token signature', () => token.split('.')[2]!],
])('keeps %s out of every log line', (_name, secret) => {
  expect(gw.logs()).not.toContain(secret());
});

it.each([
  ['the groq key', () => PROVIDER_KEY],
  ['the anthropic key', () => ANTHROPIC_KEY],
  ['the bearer token signature', () => token.split('.')[2]!],
])('keeps %s out of every response and error message', (_name, secret) => {
  expect(responses.join('\n')).not.toContain(secret());
});

it('sends the caller token to no provider', () => {
  for (const request of [...groq.requests, ...anthropic.requests]) {
    expect(JSON.stringify(request.headers)).not.toContain(token.split('.')[2]!);
  }
});
