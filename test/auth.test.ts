/**
 * Authentication against a local OIDC issuer: the contract's behaviour for REST, GraphQL over HTTP,
 * SSE and WebSocket, and the token attack matrix — every bad token is a 401, never a 500.
 */
import { createHmac } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionDocument, ChatCompletionStreamDocument, MeDocument, ModelsDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeSse, wsClient } from './helpers/graphql.js';

let idp: OidcIssuer;
let groq: FakeProvider;
let gw: TestGateway;
let token: string;

const env = () => ({
  ENABLE_AUTH: 'true',
  OIDC_ISSUER_URL: idp.issuer,
  GROQ_API_URL: groq.url,
  GROQ_API_KEY: 'provider-key',
});

beforeAll(async () => {
  idp = await startOidcIssuer();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'provider-key', models: ['llama'] });
  gw = await startTestGateway(env());
  token = await idp.token();
});
afterAll(async () => {
  await gw.close();
  await groq.close();
  await idp.close();
});

const query0 = '{ me { subject } }';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const models = (headers: Record<string, string> = {}) => fetch(`${gw.url}/v1/models`, { headers });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('REST', () => {
  it('answers a missing header with the seed\'s 401 and a Bearer challenge', async () => {
    const res = await models();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ error: 'Authorization header missing' });
  });

  it('lets a valid token in', async () => {
    const res = await models(bearer(token));
    expect(res.status).toBe(200);
    expect((await res.json()).data.map((m: any) => m.id)).toEqual(['groq/llama']);
  });

  it('accepts a lower-case bearer scheme', async () => {
    expect((await models({ authorization: `bearer ${token}` })).status).toBe(200);
  });

  it('never forwards the caller token upstream', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/llama', messages: [{ role: 'user', content: 'x' }] }, bearer(token));
    expect(res.status).toBe(200);
    const seen = groq.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer provider-key');
    expect(JSON.stringify(seen)).not.toContain(token);
  });

  it('ignores a token in the query string', async () => {
    const res = await fetch(`${gw.url}/v1/models?access_token=${token}`);
    expect(res.status).toBe(401);
  });

  it('keeps /health open', async () => {
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('protects /proxy too', async () => {
    expect((await fetch(`${gw.url}/proxy/groq/models`)).status).toBe(401);
    expect((await fetch(`${gw.url}/proxy/groq/models`, { headers: bearer(token) })).status).toBe(200);
  });
});

describe('token attack matrix: each is a 401 with invalid_token, never a 500', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['a malformed token', async () => 'not.a.jwt', /malformed/],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: 'inference-gateway-client', exp: 9e9 })}.`, /algorithm|malformed/],
    [
      'HS256 signed with the public key',
      async () => {
        const header = b64({ alg: 'HS256', typ: 'JWT', kid: idp.keys[0]!.kid });
        const payload = b64({ iss: idp.issuer, aud: 'inference-gateway-client', sub: 'x', exp: Math.floor(Date.now() / 1000) + 300 });
        const secret = JSON.stringify(idp.keys[0]!.publicJwk);
        const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${sig}`;
      },
      /algorithm/,
    ],
    ['a wrong issuer', () => idp.token({ iss: 'http://evil.example/realms/inference-gateway-realm' }), /issuer/],
    ['a wrong audience', () => idp.token({ aud: 'some-other-client' }), /audience/],
    ['an expired token', () => idp.token({}, { expiresIn: Math.floor(Date.now() / 1000) - 600 }), /expired/],
    ['a token not valid yet', () => idp.token({ nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await idp.token()).split('.');
        return `${h}.${b64({ iss: idp.issuer, aud: 'inference-gateway-client', sub: 'admin', exp: 9e9 })}.${s}`;
      },
      /signature/,
    ],
    ['an unknown key id', async () => idp.token({}, { key: await idp.newKey() }), /unknown key/],
    ['a token without exp', async () => idp.token({}, { expiresIn: undefined, header: {} }).then(async () => {
      // SignJWT always sets exp in our helper unless claims carry one; build one without exp by hand.
      const { SignJWT } = await import('jose');
      return new SignJWT({ aud: 'inference-gateway-client' }).setProtectedHeader({ alg: 'RS256', kid: idp.keys[0]!.kid }).setIssuer(idp.issuer).sign(idp.keys[0]!.privateKey);
    }), /exp/],
  ];

  it.each(cases)('%s → REST 401', async (_name, make, reason) => {
    const res = await models(bearer(await make()));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await res.json()).error).toMatch(reason);
  });

  it.each(cases)('%s → GraphQL UNAUTHENTICATED', async (_name, make) => {
    const res = await gql(gw.url, ModelsDocument, {}, bearer(await make()));
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('a wrong scheme → 401 invalid_request', async () => {
    const res = await models({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_request"');
  });

  it('a bare "Bearer" → 401', async () => {
    expect((await models({ authorization: 'Bearer' })).status).toBe(401);
  });
});

describe('GraphQL', () => {
  it('refuses an operation without a token as UNAUTHENTICATED', async () => {
    const res = await gql(gw.url, ModelsDocument, {});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.errors).toEqual([{ message: 'Authorization header missing', extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  it('refuses introspection without a token', async () => {
    const res = await gql(gw.url, '{ __schema { queryType { name } } }');
    expect(res.status).toBe(401);
  });

  it('serves the GraphiQL page without a token', async () => {
    const res = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('GraphiQL');
  });

  it('runs a query and a mutation with a token', async () => {
    const q = await gql(gw.url, ModelsDocument, {}, bearer(token));
    expect(q.data!.models.map((m) => m.id)).toEqual(['groq/llama']);
    const m = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/llama', messages: [{ role: 'USER', content: 'hi' }] } }, bearer(token));
    expect(m.data!.chatCompletion!.choices[0]!.message.content).toBe('You said: hi');
  });

  it('streams over SSE with a token, and refuses without', async () => {
    const variables = { input: { model: 'groq/llama', messages: [{ role: 'USER' as const, content: 'a b' }] } };
    const ok = await subscribeSse(gw.url, ChatCompletionStreamDocument, variables, bearer(token));
    expect(ok.results.map((r) => r.chatCompletionStream.choices[0]?.delta.content ?? '').join('')).toBe('You said: a b');
    const refused = await subscribeSse(gw.url, ChatCompletionStreamDocument, variables);
    expect(refused.results).toEqual([]);
    expect((refused.errors[0] as { response: Response }).response.status).toBe(401);
  });

  it('takes the WebSocket token from connectionParams', async () => {
    const client = wsClient(gw.url, { Authorization: `Bearer ${token}` });
    const result = await new Promise<any>((resolve, reject) =>
      client.subscribe({ query: print(ModelsDocument) }, { next: resolve, error: reject, complete: () => {} }),
    );
    expect(result.data.models.map((m: any) => m.id)).toEqual(['groq/llama']);
    await client.dispose();
  });

  it.each([
    ['no token', undefined],
    ['a bad token', { Authorization: 'Bearer nope' }],
  ])('closes a WebSocket with %s as 4401', async (_name, params) => {
    const client = wsClient(gw.url, params);
    const closed = await new Promise<any>((resolve) =>
      client.subscribe({ query: print(ModelsDocument) }, { next: () => {}, error: resolve, complete: () => {} }),
    );
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/Authorization header missing|Invalid token/);
    await client.dispose();
  });

  it('gives resolvers the caller identity: sub, azp and roles', async () => {
    const t = await idp.token({ sub: 'svc-42', resource_access: { 'inference-gateway-client': { roles: ['admin'] } } });
    const res = await gql(gw.url, MeDocument, {}, bearer(t));
    expect(res.data!.me).toEqual({
      subject: 'svc-42',
      clientId: 'inference-gateway-client',
      roles: ['llm-user', 'inference-gateway-client:admin'],
      expiresAt: expect.any(Number),
      claims: expect.objectContaining({ sub: 'svc-42', iss: idp.issuer }),
    });
  });

  describe("resolvers read the JWT plugin's context.jwt on every transport", () => {
    const query = '{ me { subject claims } }';
    const check = (data: any, sub: string) => {
      expect(data.me.subject).toBe(sub);
      expect(data.me.claims).toMatchObject({ sub, iss: idp.issuer, aud: expect.arrayContaining(['inference-gateway-client']) });
    };

    it('POST (the fast path) and a batch (Yoga)', async () => {
      const t = await idp.token({ sub: 'jwt-post' });
      check((await gql(gw.url, query, {}, bearer(t))).data, 'jwt-post');
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(t) }, body: JSON.stringify([{ query }, { query }]) });
      const batch = (await res.json()) as any[];
      for (const one of batch) check(one.data, 'jwt-post');
    });

    it('GET', async () => {
      const t = await idp.token({ sub: 'jwt-get' });
      const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json', ...bearer(t) } });
      check(((await res.json()) as any).data, 'jwt-get');
    });

    it('SSE', async () => {
      const t = await idp.token({ sub: 'jwt-sse' });
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(t) }, body: JSON.stringify({ query }) });
      const text = await res.text();
      const data = text.split('\n').find((line) => line.startsWith('data: {'))!;
      check(JSON.parse(data.slice(6)).data, 'jwt-sse');
    });

    it('WebSocket (token in connectionParams)', async () => {
      const t = await idp.token({ sub: 'jwt-ws' });
      const client = wsClient(gw.url, { Authorization: `Bearer ${t}` });
      const data = await new Promise((resolve, reject) => {
        client.subscribe({ query }, { next: (r) => resolve(r.data), error: reject, complete: () => {} });
      });
      check(data, 'jwt-ws');
      await client.dispose();
    });
  });

  it('logs the subject of a GraphQL request, which the JWT plugin found', async () => {
    const t = await idp.token({ sub: 'svc-graphql-logged' });
    await gql(gw.url, query0, {}, bearer(t));
    await expect.poll(() => gw.logs()).toMatch(/"path":"\/graphql","status":200,"ms":[\d.]+,"subject":"svc-graphql-logged"/);
    expect(gw.logs()).not.toContain(t);
  });

  it('logs the caller subject with each request, never the token', async () => {
    const t = await idp.token({ sub: 'svc-logged' });
    await models(bearer(t));
    expect(gw.logs()).toMatch(/"subject":"svc-logged"/);
    expect(gw.logs()).not.toContain(t);
  });
});

describe('signing keys', () => {
  // Fresh gateways: what these tests observe is the key cache's own state.
  let fresh: TestGateway;
  beforeAll(async () => {
    fresh = await startTestGateway(env());
  });
  afterAll(() => fresh.close());
  const models = (headers: Record<string, string>) => fetch(`${fresh.url}/v1/models`, { headers });

  it('picks up a rotated key by refetching the JWKS', async () => {
    expect((await models(bearer(token))).status).toBe(200);
    const rotated = await idp.newKey();
    idp.keys.unshift(rotated);
    const res = await models(bearer(await idp.token({}, { key: rotated })));
    expect(res.status).toBe(200);
  });

  it('rate-limits refetches caused by unknown key ids', async () => {
    const before = idp.jwksFetches;
    const stranger = await idp.newKey();
    for (let i = 0; i < 5; i++) {
      expect((await models(bearer(await idp.token({ sub: `s${i}` }, { key: stranger })))).status).toBe(401);
    }
    expect(idp.jwksFetches - before).toBeLessThanOrEqual(1);
  });

  it('keeps accepting tokens signed by cached keys while the IdP is down', async () => {
    const signed = await idp.token({ sub: 'while-down' });
    idp.setDown(true);
    try {
      expect((await models(bearer(signed))).status).toBe(200);
    } finally {
      idp.setDown(false);
    }
  });

  it('keeps answering at once with cached keys while the IdP is slow', async () => {
    const signed = await idp.token({ sub: 'while-slow' });
    idp.setDelay(8_000);
    try {
      const started = Date.now();
      expect((await models(bearer(signed))).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      idp.setDelay(0);
    }
  });

  // With nothing cached, a down IdP fails at once and a slow one after the 5 s key-fetch timeout.
  it.each([
    ['down', () => idp.setDown(true), () => idp.setDown(false)],
    ['slow (8 s)', () => idp.setDelay(8_000), () => idp.setDelay(0)],
  ])('answers 401 with a clear message, not a hang or 500, when the IdP is %s and nothing is cached', async (_name, breakIdp, mend) => {
    breakIdp();
    const cold = await startTestGateway(env());
    try {
      const started = Date.now();
      const res = await fetch(`${cold.url}/v1/models`, { headers: bearer(token) });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatch(/signing keys are unavailable/);
      expect(Date.now() - started).toBeLessThan(7_500);
    } finally {
      mend();
      await cold.close();
    }
  });
});
