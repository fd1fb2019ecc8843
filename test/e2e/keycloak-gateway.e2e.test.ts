/**
 * The seed walkthrough, steps 5–12, against a real Keycloak with our realm imported (no clicks):
 * a client-credentials token gets in through REST and every GraphQL transport; no token, or a token
 * without our audience, does not.
 */
import { request } from 'node:http';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getClientCredentialsToken, startKeycloak, type RunningKeycloak } from '../../scripts/keycloak.js';
import { ChatCompletionDocument, ChatCompletionStreamDocument, MeDocument, ModelsDocument } from '../generated/graphql.js';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { gql, subscribeSse, subscribeWs, wsClient } from '../helpers/graphql.js';
import { startRedis } from '../helpers/redis.js';

const START_TIMEOUT_MS = 480_000;

let kc: RunningKeycloak;
let groq: FakeProvider;
let gw: TestGateway;
let accessToken: string;

beforeAll(async () => {
  kc = await startKeycloak();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gsk-test', models: ['llama-3.2-3b-preview'] });
  gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: kc.issuer,
    OIDC_CLIENT_ID: 'inference-gateway-client',
    OIDC_CLIENT_SECRET: 'your-client-secret',
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'gsk-test',
  });
  // Step 5: the client-credentials flow.
  accessToken = await getClientCredentialsToken(kc.tokenUrl, 'inference-gateway-client', 'your-client-secret');
}, START_TIMEOUT_MS);

afterAll(async () => {
  await gw?.close();
  await groq?.close();
  await kc?.stop();
});

const bearer = () => ({ authorization: `Bearer ${accessToken}` });

describe('REST, as in the seed', () => {
  it('step 10: without a token → Authorization header missing', async () => {
    const res = await fetch(`${gw.url}/v1/models`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Authorization header missing' });
  });

  it('step 11: with the token → the models', async () => {
    const res = await fetch(`${gw.url}/v1/models`, { headers: bearer() });
    expect(res.status).toBe(200);
    expect((await res.json()).data.map((m: { id: string }) => m.id)).toEqual(['groq/llama-3.2-3b-preview']);
  });

  it('step 12: a chat completion with ?provider=groq', async () => {
    const res = await postJson(
      `${gw.url}/v1/chat/completions?provider=groq`,
      { model: 'llama-3.2-3b-preview', messages: [{ role: 'user', content: 'Explain the importance of fast language models.' }] },
      bearer(),
    );
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.content).toBe('You said: Explain the importance of fast language models.');
    expect(groq.requests.at(-1)!.headers.authorization).toBe('Bearer gsk-test');
  });

  it('refuses a token from the client without the audience mapper', async () => {
    const noaud = await getClientCredentialsToken(kc.tokenUrl, 'inference-gateway-client-noaud', 'noaud-client-secret');
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${noaud}` } });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatch(/audience/);
  });
});

describe('GraphQL with the Keycloak token', () => {
  it('knows the caller: the service account, its client and realm role', async () => {
    const res = await gql(gw.url, MeDocument, {}, bearer());
    expect(res.data!.me).toMatchObject({ clientId: 'inference-gateway-client', roles: expect.arrayContaining(['llm-user']) });
  });

  it('answers a query and a mutation', async () => {
    expect((await gql(gw.url, ModelsDocument, {}, bearer())).data!.models).toHaveLength(1);
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/llama-3.2-3b-preview', messages: [{ role: 'USER', content: 'hi' }] } }, bearer());
    expect(res.data!.chatCompletion!.choices[0]!.message.content).toBe('You said: hi');
  });

  const variables = { input: { model: 'groq/llama-3.2-3b-preview', messages: [{ role: 'USER' as const, content: 'stream me' }] } };

  it('streams over SSE', async () => {
    const { results, errors } = await subscribeSse(gw.url, ChatCompletionStreamDocument, variables, bearer());
    expect(errors).toEqual([]);
    expect(results.map((r) => r.chatCompletionStream.choices[0]?.delta.content ?? '').join('')).toBe('You said: stream me');
    expect(results.at(-1)!.chatCompletionStream.usage?.totalTokens).toBeGreaterThan(0);
  });

  it('streams over WebSocket with the token in connectionParams', async () => {
    const client = wsClient(gw.url, { Authorization: `Bearer ${accessToken}` });
    try {
      const { results, errors } = await subscribeWs(client, ChatCompletionStreamDocument, variables);
      expect(errors).toEqual([]);
      expect(results.map((r) => r.chatCompletionStream.choices[0]?.delta.content ?? '').join('')).toBe('You said: stream me');
    } finally {
      await client.dispose();
    }
  });

  it('refuses an operation without a token as UNAUTHENTICATED', async () => {
    const res = await gql(gw.url, print(ModelsDocument));
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('the issuer mismatch of port-forwarded Keycloak', () => {
  // The seed fetches its token with `-H "Host: keycloak.keycloak:8080"`: start-dev then stamps that
  // host into `iss`, which only OIDC_ACCEPTED_ISSUERS lets a gateway accept.
  const foreignIssuerToken = () =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(kc.tokenUrl);
      const req = request(
        { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host: 'keycloak.keycloak:8080', 'content-type': 'application/x-www-form-urlencoded' } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body).access_token) : reject(new Error(body))));
        },
      );
      req.on('error', reject);
      req.end('grant_type=client_credentials&client_id=inference-gateway-client&client_secret=your-client-secret');
    });

  it('rejects the token by default, naming the issuer', async () => {
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${await foreignIssuerToken()}` } });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatch(/issuer/);
  });

  it('accepts it once the issuer is listed in OIDC_ACCEPTED_ISSUERS', async () => {
    const tolerant = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: kc.issuer,
      OIDC_ACCEPTED_ISSUERS: 'http://keycloak.keycloak:8080/realms/inference-gateway-realm',
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'gsk-test',
    });
    try {
      const res = await fetch(`${tolerant.url}/v1/models`, { headers: { authorization: `Bearer ${await foreignIssuerToken()}` } });
      expect(res.status).toBe(200);
    } finally {
      await tolerant.close();
    }
  });
});

describe('operations with real Keycloak tokens: role rules, a Redis-backed budget, metrics', () => {
  it('maps the realm role to models, keys the budget by the token azp, and counts it per subject', async () => {
    const redis = await startRedis();
    const openai = await startFakeProvider({ apiKey: 'sk-test', models: ['gpt-4o'] });
    const governed = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: kc.issuer,
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'gsk-test',
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'sk-test',
      MODEL_ACCESS_RULES: JSON.stringify({ 'llm-user': ['groq/*'] }),
      REDIS_URL: redis.url,
      RATE_LIMIT_REQUESTS_PER_MINUTE: '100',
      RATE_LIMIT_OVERRIDES: JSON.stringify({ 'inference-gateway-client': { rpm: 3 } }),
      // Keycloak's start leaves this machine busy: a Redis answer slower than the default 500 ms would
      // fail open and serve the fourth request silently. Wait longer, and fail closed if it still does.
      REDIS_TIMEOUT: '5s',
      RATE_LIMIT_FAILURE_MODE: 'closed',
    });
    try {
      const chat = (model: string) =>
        postJson(`${governed.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, bearer());
      expect((await chat('groq/llama-3.2-3b-preview')).status).toBe(200);
      const denied = await chat('openai/gpt-4o');
      expect(denied.status).toBe(403);
      expect(denied.json.error).toBe("Model 'openai/gpt-4o' is not allowed for roles llm-user");
      expect((await chat('groq/llama-3.2-3b-preview')).status).toBe(200);
      expect((await chat('groq/llama-3.2-3b-preview')).status).toBe(200);
      const limited = await chat('groq/llama-3.2-3b-preview');
      expect(limited.status).toBe(429);
      expect(limited.json.error).toMatch(/^Rate limit exceeded for 'inference-gateway-client': 3 requests per minute/);
      const metrics = await (await fetch(`${governed.url}/metrics`)).text();
      expect(metrics).toMatch(/gateway_subject_requests_total\{subject="inference-gateway-client",gen_ai_provider_name="groq",gen_ai_request_model="llama-3.2-3b-preview",outcome="ok"\} 3/);
      expect(metrics).toMatch(/gateway_rate_limited_total\{subject="inference-gateway-client",limit="requests"\} 1/);
    } finally {
      await governed.close();
      await openai.close();
      await redis.close();
    }
  });
});

describe('usage ledger with real Keycloak tokens: each client reads its own usage, the admin client everyone\'s', () => {
  it('scopes Query.usage by the token\'s azp, and opens it all to the gateway-admin role', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const ledger = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: kc.issuer,
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'gsk-test',
      USAGE_DATABASE_URL: `pglite://${mkdtempSync(join(tmpdir(), 'e2e-ledger-'))}`,
      MODEL_PRICES: JSON.stringify({ 'groq/*': { input: 1, output: 2 } }),
    });
    try {
      const admin = await getClientCredentialsToken(kc.tokenUrl, 'inference-gateway-admin', 'admin-client-secret');
      const chat = (token: string) =>
        postJson(`${ledger.url}/v1/chat/completions`, { model: 'groq/llama-3.2-3b-preview', messages: [{ role: 'user', content: 'count me' }] }, { authorization: `Bearer ${token}` });
      expect((await chat(accessToken)).status).toBe(200);
      expect((await chat(accessToken)).status).toBe(200);
      expect((await chat(admin)).status).toBe(200);
      const report = (token: string, args = '') =>
        gql<any, never>(ledger.url, `{ usage${args} { rows { subject requests costUsd } total { requests } } }`, undefined, { authorization: `Bearer ${token}` });
      const own = await report(accessToken, '(groupBy: [SUBJECT])');
      expect(own.errors).toBeUndefined();
      expect(own.data.usage.rows).toEqual([{ subject: 'inference-gateway-client', requests: 2, costUsd: expect.any(Number) }]);
      expect(own.data.usage.rows[0].costUsd).toBeGreaterThan(0);
      const forbidden = await report(accessToken, '(subject: "inference-gateway-admin")');
      expect(forbidden.errors![0]!.extensions!.code).toBe('FORBIDDEN');
      const all = await report(admin, '(groupBy: [SUBJECT])');
      expect(all.data.usage.rows.map((r: any) => [r.subject, r.requests])).toEqual([
        ['inference-gateway-admin', 1],
        ['inference-gateway-client', 2],
      ]);
      expect(all.data.usage.total.requests).toBe(3);
    } finally {
      await ledger.close();
    }
  });
});
