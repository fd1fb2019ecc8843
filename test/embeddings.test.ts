/**
 * Embeddings, REST (`POST /v1/embeddings`, OpenAI's wire format; the official openai SDK too) and
 * GraphQL (`Mutation.embeddings`), for each of the ten providers whose API serves them — against
 * fakes that speak each one's dialect (Mistral's field names and strictness, NVIDIA's input_type,
 * MiniMax's texts/vectors and 200-with-an-error-status, Gemini's and others' float-only answers) —
 * and a clear 400 for the five that don't. Budgets, role rules, fallbacks, metrics and the log line
 * treat embeddings like chat.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../src/providers/catalog.js';
import { fakeVector, startFakeProvider, type EmbeddingsFormat, type FakeProvider, type Flavor } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';

interface Case {
  id: string;
  flavor: Flavor;
  basePath: string;
  keyless?: boolean;
  /** Absent: the provider serves no embeddings. */
  embeddings?: { path: string; format: EmbeddingsFormat; base64: boolean };
}

const openai = (path = '/embeddings', base64 = true) => ({ path, format: 'openai' as const, base64 });
const CASES: Case[] = [
  { id: 'openai', flavor: 'openai', basePath: '/v1', embeddings: openai() },
  { id: 'anthropic', flavor: 'anthropic', basePath: '/v1' },
  { id: 'groq', flavor: 'openai', basePath: '/openai/v1' },
  { id: 'ollama', flavor: 'openai', basePath: '/v1', keyless: true, embeddings: openai() },
  { id: 'cohere', flavor: 'cohere', basePath: '', embeddings: openai('/compatibility/v1/embeddings') },
  { id: 'cloudflare', flavor: 'cloudflare', basePath: '/client/v4/accounts/acc123/ai', embeddings: openai('/v1/embeddings', false) },
  { id: 'deepseek', flavor: 'openai', basePath: '' },
  { id: 'google', flavor: 'google', basePath: '/v1beta/openai', embeddings: openai('/embeddings', false) },
  { id: 'mistral', flavor: 'openai', basePath: '/v1', embeddings: { path: '/embeddings', format: 'mistral', base64: true } },
  { id: 'ollama_cloud', flavor: 'openai', basePath: '/v1' },
  { id: 'moonshot', flavor: 'openai', basePath: '/v1' },
  { id: 'minimax', flavor: 'openai', basePath: '/v1', embeddings: { path: '/embeddings', format: 'minimax', base64: false } },
  { id: 'nvidia', flavor: 'openai', basePath: '/v1', embeddings: { path: '/embeddings', format: 'nvidia', base64: true } },
  { id: 'zai', flavor: 'openai', basePath: '/api/paas/v4', embeddings: openai('/embeddings', false) },
  { id: 'llamacpp', flavor: 'openai', basePath: '/v1', keyless: true, embeddings: openai() },
];
const SERVING = CASES.filter((c) => c.embeddings);
const NOT_SERVING = CASES.filter((c) => !c.embeddings);

const fakes = new Map<string, FakeProvider>();
let gw: TestGateway;

beforeAll(async () => {
  const env: Record<string, string> = {
    MODEL_FALLBACKS: JSON.stringify({ 'embed-smart': ['openai/fail-503', 'mistral/mistral-embed'], 'chat-only': ['groq/llama'] }),
    DISALLOWED_MODELS: 'openai/forbidden-embed',
  };
  for (const c of CASES) {
    const spec = PROVIDERS.find((p) => p.id === c.id)!;
    const fake = await startFakeProvider({
      flavor: c.flavor,
      basePath: c.basePath,
      apiKey: c.keyless ? undefined : `key-${c.id}`,
      embeddings: c.embeddings ? { path: c.embeddings.path, format: c.embeddings.format, base64: c.embeddings.base64 } : { path: '/none' },
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

const EMBED = `mutation Embed($input: EmbeddingsInput!) {
  embeddings(input: $input) { model provider data { index vector } usage { promptTokens totalTokens } }
}`;
const TEXTS = ['the quick brown fox', 'jumps over the lazy dog'];

it('knows which providers serve embeddings: the catalogue agrees with the cases', () => {
  expect(PROVIDERS.filter((p) => p.embeddings).map((p) => p.id).sort()).toEqual(SERVING.map((c) => c.id).sort());
  for (const c of SERVING) expect(PROVIDERS.find((p) => p.id === c.id)!.embeddings).toEqual(c.embeddings);
});

describe.each(SERVING)('$id serves embeddings', (c) => {
  const model = c.id === 'nvidia' ? 'nv-embedqa-e5-v5' : `${c.id}-embed`;
  const fake = () => fakes.get(c.id)!;

  it('over REST, in OpenAI\'s format both ways', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: `${c.id}/${model}`, input: TEXTS });
    expect(res.status, res.text).toBe(200);
    expect(res.json.object).toBe('list');
    expect(res.json.data).toEqual(TEXTS.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t) })));
    expect(res.json.usage.prompt_tokens).toBe(11);
    expect(res.headers.get('x-gateway-provider')).toBe(c.id);
    const seen = fake().requests.at(-1)!;
    expect(seen.path).toBe(`${c.basePath}${c.embeddings!.path}`);
    if (c.keyless) expect(seen.headers.authorization).toBeUndefined();
    else expect(seen.headers.authorization).toBe(`Bearer key-${c.id}`);
    // The provider's own dialect on the wire.
    if (c.embeddings!.format === 'minimax') expect(seen.json).toEqual({ model, texts: TEXTS, type: 'db' });
    else expect(seen.json).toMatchObject({ model, input: TEXTS });
    if (c.embeddings!.format === 'nvidia') expect(seen.json.input_type).toBe('query');
  });

  it('over GraphQL', async () => {
    const res = await gql<any, any>(gw.url, EMBED, { input: { model: `${c.id}/${model}`, input: TEXTS } });
    expect(res.errors).toBeUndefined();
    expect(res.data.embeddings).toEqual({
      model,
      provider: c.id,
      data: TEXTS.map((t, index) => ({ index, vector: fakeVector(t) })),
      usage: { promptTokens: 11, totalTokens: 11 },
    });
  });

  it('base64 for the openai SDK (its default), encoded by the gateway when the provider answers floats only', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const res = await client.embeddings.create({ model: `${c.id}/${model}`, input: TEXTS[0]! });
    expect(res.data[0]!.embedding).toEqual(fakeVector(TEXTS[0]!));
    const sent = fake().requests.at(-1)!.json;
    if (c.embeddings!.format === 'minimax') expect(sent.encoding_format).toBeUndefined();
    else expect(sent.encoding_format).toBe(c.embeddings!.base64 ? 'base64' : 'float');
  });
});

describe('dialects', () => {
  it('Mistral: dimensions travel as output_dimension, and fields Mistral refuses stay out', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'mistral/codestral-embed', input: 'x', dimensions: 4, user: 'u-1' });
    expect(res.status, res.text).toBe(200);
    expect(fakes.get('mistral')!.requests.at(-1)!.json).toEqual({ model: 'codestral-embed', input: 'x', output_dimension: 4 });
    expect(res.json.data[0].embedding).toHaveLength(4);
  });

  it('NVIDIA: a caller\'s own input_type is kept', async () => {
    await postJson(`${gw.url}/v1/embeddings`, { model: 'nvidia/nv-embedqa-e5-v5', input: 'doc', input_type: 'passage' });
    expect(fakes.get('nvidia')!.requests.at(-1)!.json.input_type).toBe('passage');
  });

  it('MiniMax: type "query" when the caller says so; an error sent as HTTP 200 becomes the status it means', async () => {
    await postJson(`${gw.url}/v1/embeddings`, { model: 'minimax/embo-01', input: 'q', type: 'query' });
    expect(fakes.get('minimax')!.requests.at(-1)!.json.type).toBe('query');
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'minimax/minimax-bad-key', input: 'q' });
    expect(res.status).toBe(401);
    expect(res.json.error).toMatch(/^minimax: login fail/);
  });

  it('dimensions reach OpenAI as they are', async () => {
    const res = await gql<any, any>(gw.url, EMBED, { input: { model: 'openai/text-embedding-3-small', input: ['x'], dimensions: 3 } });
    expect(res.data.embeddings.data[0].vector).toHaveLength(3);
    expect(fakes.get('openai')!.requests.at(-1)!.json).toEqual({ model: 'text-embedding-3-small', input: ['x'], encoding_format: 'float', dimensions: 3 });
  });
});

describe('providers without embeddings', () => {
  it.each(NOT_SERVING)('$id → 400 naming the providers that serve them, on both edges', async (c) => {
    const list = 'openai, ollama, cohere, cloudflare, google, mistral, minimax, nvidia, zai, llamacpp';
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: `${c.id}/some-model`, input: 'x' });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe(`Provider '${c.id}' does not serve embeddings. Providers that do: ${list} (configured here: ${list})`);
    const graph = await gql<any, any>(gw.url, EMBED, { input: { model: `${c.id}/some-model`, input: ['x'] } });
    expect(graph.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(graph.errors![0]!.message).toBe(res.json.error);
    expect(fakes.get(c.id)!.requests.filter((r) => r.path.endsWith('embeddings'))).toEqual([]);
  });

  it('an alias none of whose targets serves embeddings', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'chat-only', input: 'x' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^No target of alias 'chat-only' serves embeddings/);
  });
});

describe('bad input', () => {
  it.each([
    [{ input: 'x' }, /'model' must be a non-empty string/],
    [{ model: 'openai/e' }, /'input' must be a string or a non-empty array/],
    [{ model: 'openai/e', input: [] }, /'input' must be a string or a non-empty array/],
    [{ model: 'openai/e', input: [1, 'a'] }, /'input' must be a string or a non-empty array/],
    [{ model: 'openai/e', input: ['a', ''] }, /must not contain empty strings/],
    [{ model: 'openai/e', input: 'a', dimensions: 0 }, /'dimensions' must be a positive integer/],
    [{ model: 'openai/e', input: 'a', encoding_format: 'hex' }, /'encoding_format' must be "float" or "base64"/],
    [{ model: 'openai/e', input: Array.from({ length: 2049 }, () => 'a') }, /'input' has 2049 entries; the limit is 2048/],
    [{ model: 'e', input: 'a' }, /provider/i],
  ])('REST %j → 400', async (body, wording) => {
    const res = await postJson(`${gw.url}/v1/embeddings`, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(wording);
  });

  it('a body that is not JSON → 400', async () => {
    expect((await postJson(`${gw.url}/v1/embeddings`, '{"model":')).status).toBe(400);
  });

  it('GET → 405', async () => {
    expect((await fetch(`${gw.url}/v1/embeddings`)).status).toBe(405);
  });

  it.each([
    [{ model: 'openai/e', input: [] }, /input must not be empty/],
    [{ model: 'openai/e', input: ['a', ''] }, /input must not contain empty strings/],
    [{ model: 'openai/e', input: ['a'], dimensions: -1 }, /dimensions must be a positive integer/],
  ])('GraphQL %j → BAD_USER_INPUT', async (input, wording) => {
    const res = await gql<any, any>(gw.url, EMBED, { input });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(wording);
  });

  it('a disallowed model → 403', async () => {
    expect((await postJson(`${gw.url}/v1/embeddings`, { model: 'openai/forbidden-embed', input: 'x' })).status).toBe(403);
  });

  it('a provider failure keeps its status', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'openai/fail-500', input: 'x' });
    expect(res.status).toBe(500);
    expect(res.json.error).toBe('openai: fake failure 500');
  });
});

describe('embeddings are calls like chat', () => {
  it('a fallback alias moves on when a target fails before answering', async () => {
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'embed-smart', input: 'x' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('mistral');
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('metrics name the operation, and the log line says embeddings', async () => {
    await postJson(`${gw.url}/v1/embeddings`, { model: 'openai/metered-embed', input: 'count me' });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gen_ai_client_operation_duration_seconds_count\{gen_ai_operation_name="embeddings",gen_ai_provider_name="openai",gen_ai_request_model="metered-embed",error_type=""\} 1/);
    expect(metrics).toMatch(/gen_ai_client_token_usage_sum\{gen_ai_operation_name="embeddings",gen_ai_provider_name="openai",gen_ai_request_model="metered-embed",gen_ai_token_type="input"\} 2/);
    expect(metrics).not.toMatch(/gen_ai_token_type="output"\}[^\n]*\n[^\n]*metered-embed/);
    expect(metrics).toMatch(/gateway_subject_requests_total\{subject="anonymous",gen_ai_provider_name="openai",gen_ai_request_model="metered-embed",outcome="ok"\} 1/);
    await expect.poll(() => gw.logs()).toMatch(/"path":"\/v1\/embeddings".*"operation":"embeddings","provider":"openai","model":"metered-embed","promptTokens":2/);
  });

  it('budgets count embeddings requests and tokens', async () => {
    const limited = await startTestGateway({
      OPENAI_API_URL: fakes.get('openai')!.url,
      OPENAI_API_KEY: 'key-openai',
      RATE_LIMIT_REQUESTS_PER_MINUTE: '2',
    });
    try {
      const embed = () => postJson(`${limited.url}/v1/embeddings`, { model: 'openai/e', input: 'x' });
      const first = await embed();
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect((await gql<any, any>(limited.url, EMBED, { input: { model: 'openai/e', input: ['x'] } })).data.embeddings).not.toBeNull();
      const refused = await embed();
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatch(/^Rate limit exceeded for 'anonymous': 2 requests per minute/);
    } finally {
      await limited.close();
    }
  });

  it('role rules apply', async () => {
    const { startOidcIssuer } = await import('./fakes/oidc-issuer.js');
    const idp = await startOidcIssuer();
    const governed = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: idp.issuer,
      OPENAI_API_URL: fakes.get('openai')!.url,
      OPENAI_API_KEY: 'key-openai',
      MISTRAL_API_URL: fakes.get('mistral')!.url,
      MISTRAL_API_KEY: 'key-mistral',
      MODEL_ACCESS_RULES: JSON.stringify({ 'llm-user': ['mistral/*'] }),
    });
    try {
      const auth = { authorization: `Bearer ${await idp.token()}` };
      expect((await postJson(`${governed.url}/v1/embeddings`, { model: 'mistral/mistral-embed', input: 'x' }, auth)).status).toBe(200);
      const denied = await postJson(`${governed.url}/v1/embeddings`, { model: 'openai/e', input: 'x' }, auth);
      expect(denied.status).toBe(403);
      expect(denied.json.error).toBe("Model 'openai/e' is not allowed for roles llm-user");
    } finally {
      await governed.close();
      await idp.close();
    }
  });
});
