/**
 * Every provider in the catalogue, at wire level against a fake speaking its format: the right
 * endpoint, the right way of sending the key, and its model list normalised to `provider/model`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../src/providers/catalog.js';
import { startFakeProvider, type Flavor, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';

interface Case {
  id: string;
  flavor: Flavor;
  basePath: string;
  chatPath?: string;
  modelsPath?: string;
  keyless?: boolean;
}

// Base paths mirror each vendor's real default URL, so path joining is exercised as in production.
const CASES: Case[] = [
  { id: 'openai', flavor: 'openai', basePath: '/v1' },
  { id: 'anthropic', flavor: 'anthropic', basePath: '/v1' },
  { id: 'groq', flavor: 'openai', basePath: '/openai/v1' },
  { id: 'ollama', flavor: 'openai', basePath: '/v1', keyless: true },
  { id: 'cohere', flavor: 'cohere', basePath: '', chatPath: '/compatibility/v1/chat/completions' },
  { id: 'cloudflare', flavor: 'cloudflare', basePath: '/client/v4/accounts/acc123/ai', chatPath: '/v1/chat/completions' },
  { id: 'deepseek', flavor: 'openai', basePath: '' },
  { id: 'google', flavor: 'google', basePath: '/v1beta/openai' },
  { id: 'mistral', flavor: 'openai', basePath: '/v1' },
  { id: 'ollama_cloud', flavor: 'openai', basePath: '/v1' },
  { id: 'moonshot', flavor: 'openai', basePath: '/v1' },
  { id: 'minimax', flavor: 'openai', basePath: '/v1' },
  { id: 'nvidia', flavor: 'openai', basePath: '/v1' },
  { id: 'zai', flavor: 'openai', basePath: '/api/paas/v4' },
  { id: 'llamacpp', flavor: 'openai', basePath: '/v1', keyless: true },
];

const fakes = new Map<string, FakeProvider>();
let gw: TestGateway;

beforeAll(async () => {
  const env: Record<string, string> = {};
  for (const c of CASES) {
    const spec = PROVIDERS.find((p) => p.id === c.id)!;
    const fake = await startFakeProvider({
      flavor: c.flavor,
      basePath: c.basePath,
      apiKey: c.keyless ? undefined : `key-${c.id}`,
      chatPath: c.chatPath,
      models: [`${c.id}-large`, `${c.id}-small`],
    });
    fakes.set(c.id, fake);
    env[`${spec.envPrefix}_API_URL`] = fake.url;
    if (!c.keyless) env[`${spec.envPrefix}_API_KEY`] = `key-${c.id}`;
  }
  gw = await startTestGateway(env);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([...fakes.values()].map((f) => f.close()));
});

it('covers every provider in the catalogue', () => {
  expect(CASES.map((c) => c.id).sort()).toEqual(PROVIDERS.map((p) => p.id).sort());
});

describe.each(CASES)('$id', (c) => {
  it('serves a chat completion through its own endpoint and auth style', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, {
      model: `${c.id}/${c.id}-large`,
      messages: [{ role: 'user', content: `hi ${c.id}` }],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.choices[0].message.content).toBe(`You said: hi ${c.id}`);
    const seen = fakes.get(c.id)!.requests.at(-1)!;
    expect(seen.path).toBe(`${c.basePath}${c.chatPath ?? '/chat/completions'}`);
    expect(seen.json.model).toBe(`${c.id}-large`);
    if (c.flavor === 'anthropic') {
      expect(seen.headers['x-api-key']).toBe('key-anthropic');
      expect(seen.headers['anthropic-version']).toBe('2023-06-01');
      expect(seen.headers.authorization).toBeUndefined();
    } else if (c.keyless) {
      expect(seen.headers.authorization).toBeUndefined();
    } else {
      expect(seen.headers.authorization).toBe(`Bearer key-${c.id}`);
    }
  });

  it('lists its chat models as provider/model', async () => {
    const res = await fetch(`${gw.url}/v1/models?provider=${c.id}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.object).toBe('list');
    expect(body.data.map((m: any) => m.id)).toEqual([`${c.id}/${c.id}-large`, `${c.id}/${c.id}-small`]);
    for (const m of body.data) {
      expect(m).toMatchObject({ object: 'model', served_by: c.id, owned_by: expect.any(String), created: expect.any(Number) });
    }
  });
});

describe('model-list normalisation', () => {
  it('turns Anthropic created_at dates into unix seconds', async () => {
    const body = await (await fetch(`${gw.url}/v1/models?provider=anthropic`)).json();
    expect(body.data[0].created).toBe(Date.parse('2025-02-19T00:00:00Z') / 1000);
  });

  it('keeps OpenAI owned_by', async () => {
    const body = await (await fetch(`${gw.url}/v1/models?provider=openai`)).json();
    expect(body.data[0].owned_by).toBe('fake-org');
  });
});

describe('GET /v1/models without a provider', () => {
  it('lists every configured provider at once', async () => {
    const body = await (await fetch(`${gw.url}/v1/models`)).json();
    const servedBy = new Set(body.data.map((m: any) => m.served_by));
    expect([...servedBy].sort()).toEqual(CASES.map((c) => c.id).sort());
  });
});
