/**
 * What a web app in a browser needs from the gateway: one CORS policy on both edges (REST and
 * GraphQL answer preflights identically; WebSocket upgrades from other origins are refused), trusted
 * documents by sha256 id from the file GraphQL Code Generator's client preset writes (this
 * repository's own test/graphql/operations.graphql, through codegen.ts), and partial results when
 * one aliased call of several fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../src/config.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { ChatCompletionStreamDocument, MeDocument, ModelsDocument } from './generated/client/graphql.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';

const PERSISTED = 'test/generated/client/persisted-documents.json';
const APP = 'http://localhost:5173';
const EVIL = 'https://evil.example';
const idOf = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k', models: ['llama'] });
});
afterAll(() => fake.close());
const providerEnv = () => ({ GROQ_API_URL: fake.url, GROQ_API_KEY: 'k' });

const preflight = (url: string, origin: string, requestHeaders = 'authorization, content-type') =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders } });
const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));
const chatBody = JSON.stringify({ model: 'groq/llama', messages: [{ role: 'user', content: 'hi' }] });
const mutation = JSON.stringify({ query: 'mutation { chatCompletion(input: {model: "groq/llama", messages: [{role: USER, content: "hi"}]}) { id } }' });

describe('CORS, one policy for both edges', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ...providerEnv(), CORS_ALLOWED_ORIGINS: `${APP}, https://app.example.com/`, RATE_LIMIT_REQUESTS_PER_MINUTE: '1000' });
  });
  afterAll(() => gw.close());

  it('answers an allowed preflight with 204, the same on REST and GraphQL', async () => {
    const rest = await preflight(`${gw.url}/v1/chat/completions`, APP);
    const graphql = await preflight(`${gw.url}/graphql`, APP);
    expect(rest.status).toBe(204);
    expect(graphql.status).toBe(204);
    expect(corsHeaders(rest)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-request-id',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    expect(corsHeaders(graphql)).toEqual(corsHeaders(rest));
  });

  it('allows the headers the openai SDK and GraphQL clients send, and no others', async () => {
    const res = await preflight(`${gw.url}/v1/chat/completions`, APP, 'authorization,content-type,x-stainless-os,x-stainless-retry-count,apollo-require-preflight,x-evil');
    const allowed = res.headers.get('access-control-allow-headers')!.split(', ');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-stainless-os', 'x-stainless-retry-count', 'apollo-require-preflight']));
    expect(allowed).not.toContain('x-evil');
  });

  it('takes a listed origin written with a trailing slash', async () => {
    expect((await preflight(`${gw.url}/graphql`, 'https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('refuses a preflight from another origin with 403 and a reason, on both edges', async () => {
    for (const path of ['/v1/chat/completions', '/graphql']) {
      const res = await preflight(`${gw.url}${path}`, EVIL);
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toEqual({ error: `Origin ${EVIL} is not allowed to call this gateway; list it in CORS_ALLOWED_ORIGINS` });
    }
  });

  it('marks actual answers for an allowed origin and exposes what clients read; nothing for others', async () => {
    const rest = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: chatBody });
    const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: mutation });
    for (const res of [rest, graphql]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      const exposed = res.headers.get('access-control-expose-headers')!.split(', ');
      expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens', 'x-gateway-provider']));
    }
    expect(rest.headers.get('x-ratelimit-remaining-requests')).not.toBeNull();
    const other = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: EVIL, 'content-type': 'application/json' }, body: chatBody });
    expect(other.status).toBe(200); // served as to any client; the browser keeps it from the page
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never sends access-control-allow-credentials', async () => {
    const responses = [
      await preflight(`${gw.url}/graphql`, APP),
      await preflight(`${gw.url}/v1/models`, APP),
      await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', cookie: 'a=b' }, body: mutation }),
      await fetch(`${gw.url}/v1/models`, { headers: { origin: APP } }),
      await fetch(`${gw.url}/graphql`, { headers: { origin: APP, accept: 'text/html' } }),
    ];
    for (const res of responses) expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  const upgrade = (origin?: string) =>
    new Promise<number | 'open'>((resolve) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', origin ? { origin } : {});
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('error', () => {});
    });

  it('refuses a WebSocket upgrade from another origin; takes the allowed, its own, and non-browser clients', async () => {
    expect(await upgrade(EVIL)).toBe(403);
    expect(await upgrade(APP)).toBe('open');
    expect(await upgrade(gw.url)).toBe('open'); // GraphiQL served by the gateway itself
    expect(await upgrade()).toBe('open');
  });

  it('"*" allows any origin, still without credentials', async () => {
    const open = await startTestGateway({ ...providerEnv(), CORS_ALLOWED_ORIGINS: '*' });
    try {
      const res = await preflight(`${open.url}/graphql`, EVIL);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const actual = await fetch(`${open.url}/v1/models`, { headers: { origin: EVIL } });
      expect(actual.headers.get('access-control-allow-origin')).toBe('*');
      expect(actual.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await open.close();
    }
  });

  it('is closed by default', async () => {
    const closed = await startTestGateway(providerEnv());
    try {
      expect((await preflight(`${closed.url}/graphql`, APP)).status).toBe(403);
      expect((await preflight(`${closed.url}/v1/chat/completions`, APP)).status).toBe(403);
      expect((await fetch(`${closed.url}/v1/models`, { headers: { origin: APP } })).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.close();
    }
  });

  it('refuses a CORS_ALLOWED_ORIGINS entry that is not an origin, at start-up', () => {
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: 'https://ok.example, https://app.example.com/path, localhost:5173' })).toThrow(ConfigError);
    try {
      loadConfig({ CORS_ALLOWED_ORIGINS: 'https://ok.example, https://app.example.com/path, localhost:5173' });
    } catch (error) {
      expect((error as ConfigError).message).toMatch(/"https:\/\/app\.example\.com\/path" is not an origin/);
      expect((error as ConfigError).message).toMatch(/"localhost:5173" is not an origin/);
    }
  });
});

describe('trusted documents', () => {
  const documents = JSON.parse(readFileSync(PERSISTED, 'utf8')) as Record<string, string>;
  let allow: TestGateway;
  let only: TestGateway;
  beforeAll(async () => {
    allow = await startTestGateway({ ...providerEnv(), GRAPHQL_PERSISTED_DOCUMENTS: PERSISTED });
    only = await startTestGateway({ ...providerEnv(), GRAPHQL_PERSISTED_DOCUMENTS: PERSISTED, GRAPHQL_PERSISTED_DOCUMENTS_MODE: 'only' });
  });
  afterAll(async () => {
    await allow.close();
    await only.close();
  });

  const post = (gw: TestGateway, body: unknown, accept = 'application/json') =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });

  it('the file is the client preset\'s: every id is its document\'s sha256', () => {
    expect(Object.keys(documents).length).toBeGreaterThanOrEqual(6);
    expect(documents[idOf(ModelsDocument)]).toMatch(/^query Models/);
  });

  it.each([
    ['documentId (sha256:…)', (id: string) => ({ documentId: id, variables: { provider: 'groq' } })],
    ['documentId (bare hex)', (id: string) => ({ documentId: id.slice(7), variables: { provider: 'groq' } })],
    ["Apollo's persistedQuery extension", (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id.slice(7) } }, variables: { provider: 'groq' } })],
  ])('runs a persisted query by %s over POST, in both modes', async (_name, body) => {
    for (const gw of [allow, only]) {
      const res = await post(gw, body(idOf(ModelsDocument)));
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).data.models.map((m: any) => m.id)).toEqual(['groq/llama']);
    }
  });

  it('runs a persisted query over GET', async () => {
    const res = await fetch(`${only.url}/graphql?documentId=${encodeURIComponent(idOf(MeDocument))}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: null } });
  });

  it('runs a persisted subscription over SSE', async () => {
    const res = await post(only, { documentId: idOf(ChatCompletionStreamDocument), variables: { input: { model: 'groq/llama', messages: [{ role: 'USER', content: 'persisted' }] } } }, 'text/event-stream');
    const text = await res.text();
    expect(text).toContain('"content":"persisted"');
    expect(text).toContain('event: complete');
  });

  it('runs a persisted subscription over WebSocket (query "" with the id)', async () => {
    const { createClient } = await import('graphql-ws');
    for (const payload of [
      { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: idOf(ChatCompletionStreamDocument).slice(7) } } },
      { query: '', documentId: idOf(ChatCompletionStreamDocument) },
    ]) {
      const client = createClient({ url: `${only.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      const chunks: string[] = [];
      await new Promise<void>((resolve, reject) =>
        client.subscribe({ ...payload, variables: { input: { model: 'groq/llama', messages: [{ role: 'USER', content: 'over ws' }] } } } as never, {
          next: (r: any) => chunks.push(r.data.chatCompletionStream.choices[0]?.delta.content ?? ''),
          error: reject,
          complete: resolve,
        }),
      );
      await client.dispose();
      expect(chunks.join('')).toBe('You said: over ws');
    }
  });

  it('in only mode refuses ad-hoc documents and introspection on every transport', async () => {
    const adHoc = await post(only, { query: '{ providers { id } }' });
    expect(adHoc.status).toBe(400);
    const body = (await adHoc.json()) as any;
    expect(body.errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    expect(body.data ?? null).toBeNull();
    const introspection = await post(only, { query: '{ __schema { queryType { name } } }' });
    expect(((await introspection.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    const get = await fetch(`${only.url}/graphql?query=${encodeURIComponent('{ providers { id } }')}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(400);
    expect(((await get.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    // Even a persisted document's own text, sent in full, is not an id.
    expect((await post(only, { query: print(ModelsDocument as never) })).status).toBe(400);
    const sse = await post(only, { query: 'subscription { chatCompletionStream(input: {model: "groq/llama", messages: [{role: USER, content: "x"}]}) { id } }' }, 'text/event-stream');
    expect(sse.status).toBe(400);
    const { createClient } = await import('graphql-ws');
    const client = createClient({ url: `${only.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const errors = await new Promise<any[]>((resolve) => client.subscribe({ query: '{ providers { id } }' }, { next: () => {}, error: (e: any) => resolve(e), complete: () => resolve([]) }));
    await client.dispose();
    expect(errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
  });

  it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND (400), in both modes', async () => {
    for (const gw of [allow, only]) {
      const res = await post(gw, { documentId: `sha256:${'0'.repeat(64)}` });
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.errors[0]).toMatchObject({ message: `Persisted document ${'0'.repeat(64)} is not known to this gateway`, extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
    }
  });

  it('in allow mode still runs ad-hoc documents, and GraphiQL loads the schema', async () => {
    expect(((await (await post(allow, { query: '{ providers { id } }' })).json()) as any).data.providers).toHaveLength(15);
    const introspection = await gql(allow.url, '{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }');
    expect(introspection.data).toEqual({ __schema: { queryType: { name: 'Query' }, mutationType: { name: 'Mutation' }, subscriptionType: { name: 'Subscription' } } });
    // The GraphiQL page itself is served in both modes.
    expect((await fetch(`${only.url}/graphql`, { headers: { accept: 'text/html' } })).status).toBe(200);
  });

  it('refuses a stale file at start-up: an id that is not its document\'s hash', () => {
    const stale = join(tmpdir(), `stale-persisted-${process.pid}.json`);
    writeFileSync(stale, JSON.stringify({ [`sha256:${'a'.repeat(64)}`]: 'query A { providers { id } }' }));
    expect(() => loadConfig({ GRAPHQL_PERSISTED_DOCUMENTS: stale })).toThrow(/is not the sha256 of its document/);
    expect(() => loadConfig({ GRAPHQL_PERSISTED_DOCUMENTS: '/nonexistent.json' })).toThrow(/cannot read \/nonexistent\.json/);
    expect(() => loadConfig({ GRAPHQL_PERSISTED_DOCUMENTS_MODE: 'only' })).toThrow(/needs GRAPHQL_PERSISTED_DOCUMENTS/);
    expect(() => loadConfig({ GRAPHQL_PERSISTED_DOCUMENTS: PERSISTED, GRAPHQL_PERSISTED_DOCUMENTS_MODE: 'strict' })).toThrow(/must be one of allow, only/);
  });
});

describe('partial results', () => {
  it('one failed alias of three leaves the other answers in data; the budget counts all three', async () => {
    const gw = await startTestGateway({ ...providerEnv(), RATE_LIMIT_REQUESTS_PER_MINUTE: '3' });
    try {
      const call = (alias: string, model: string) => `${alias}: chatCompletion(input: {model: "${model}", messages: [{role: USER, content: "${alias}"}]}) { choices { message { content } } }`;
      const res = await gql<any, never>(gw.url, `mutation { ${call('a', 'groq/llama')} ${call('b', 'groq/fail-500')} ${call('c', 'groq/llama')} }`);
      expect(res.data).toEqual({
        a: { choices: [{ message: { content: 'You said: a' } }] },
        b: null,
        c: { choices: [{ message: { content: 'You said: c' } }] },
      });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({ path: ['b'], extensions: { code: 'UPSTREAM_ERROR', provider: 'groq', status: 500 } });
      const fourth = await gql<any, never>(gw.url, `mutation { ${call('d', 'groq/llama')} }`);
      expect(fourth.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    } finally {
      await gw.close();
    }
  });

  it('the same for embeddings', async () => {
    const gw = await startTestGateway({ OPENAI_API_URL: fake.url, OPENAI_API_KEY: 'k' });
    try {
      const call = (alias: string, model: string) => `${alias}: embeddings(input: {model: "${model}", input: ["x"]}) { provider }`;
      const res = await gql<any, never>(gw.url, `mutation { ${call('a', 'openai/e')} ${call('b', 'openai/fail-503')} ${call('c', 'openai/e')} }`);
      expect(res.data).toEqual({ a: { provider: 'openai' }, b: null, c: { provider: 'openai' } });
      expect(res.errors![0]!.path).toEqual(['b']);
    } finally {
      await gw.close();
    }
  });
});
