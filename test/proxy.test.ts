import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let anthropic: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  anthropic = await startFakeProvider({ flavor: 'anthropic', apiKey: 'sk-ant', models: ['claude-x'] });
  gw = await startTestGateway({ ANTHROPIC_API_URL: anthropic.url, ANTHROPIC_API_KEY: 'sk-ant' });
});
afterAll(async () => {
  await gw.close();
  await anthropic.close();
});

it("passes a request through to the provider's base URL with its credentials, not the caller's", async () => {
  const res = await fetch(`${gw.url}/proxy/anthropic/models`, { headers: { authorization: 'Bearer caller-token', cookie: 'a=b' } });
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(body.data[0].id).toBe('claude-x'); // the provider's own shape, untouched
  const seen = anthropic.requests.at(-1)!;
  expect(seen.path).toBe('/v1/models');
  expect(seen.headers['x-api-key']).toBe('sk-ant');
  expect(seen.headers.authorization).toBeUndefined();
  expect(seen.headers.cookie).toBeUndefined();
});

it('keeps method, query and body', async () => {
  const res = await fetch(`${gw.url}/proxy/anthropic/echo?x=1&y=2`, { method: 'PUT', body: 'raw body' });
  expect(await res.json()).toEqual({ method: 'PUT', query: '/v1/echo?x=1&y=2', body: 'raw body' });
});

it("relays the provider's error status and body as they are", async () => {
  const res = await fetch(`${gw.url}/proxy/anthropic/nowhere`);
  expect(res.status).toBe(404);
  expect((await res.json()).error.message).toMatch(/fake has no route/);
});

it('answers 404 for an unknown provider and 400 for a path escaping the base', async () => {
  expect((await fetch(`${gw.url}/proxy/nope/models`)).status).toBe(404);
});

it.each(['/proxy/anthropic/../secret', '/proxy/anthropic/%2e%2e/secret', '/proxy/anthropic/a/%2E./b'])(
  'refuses %s with 400 (it would escape the base path)',
  async (path) => {
    // fetch() would normalise the dots away; a raw request sends them as an attacker would.
    const status = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(gw.url);
      request({ hostname, port, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(400);
  },
);
