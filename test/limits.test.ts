/**
 * Per-subject budgets with a real Redis (Debian's redis-server on a free loopback port): two gateway
 * replicas share one budget; without Redis each replica keeps its own; a Redis outage has the
 * configured, documented outcome and never hangs a request.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { RateLimitDocument } from './generated/graphql.js';
import { gql } from './helpers/graphql.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

let redis: RedisServer;
let idp: OidcIssuer;
let groq: FakeProvider;
const gateways: TestGateway[] = [];

// The fake reports usage as characters: prompt = JSON of the messages (32), completion = "You said: hi" (12).
const HI = [{ role: 'user', content: 'hi' }];
const TOKENS_PER_HI = 44;

beforeAll(async () => {
  [redis, idp, groq] = await Promise.all([startRedis(), startOidcIssuer(), startFakeProvider({ basePath: '/openai/v1', apiKey: 'k', models: ['llama'] })]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all([redis.close(), idp.close(), groq.close()]);
});

async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: idp.issuer,
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'k',
    ...env,
  });
  gateways.push(gw);
  return gw;
}

const tokenFor = (client: string) => idp.token({ azp: client, sub: `user-of-${client}` });

async function chat(gw: TestGateway, token: string, body: Record<string, unknown> = {}) {
  return postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/llama', messages: HI, ...body }, { authorization: `Bearer ${token}` });
}

describe('two replicas sharing one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    const env = {
      REDIS_URL: redis.url,
      RATE_LIMIT_REQUESTS_PER_MINUTE: '5',
      RATE_LIMIT_OVERRIDES: JSON.stringify({ 'token-client': { rpm: 100, tpm: 100 }, 'tiny-client': { rpm: 1 }, 'free-client': { rpm: 0 } }),
    };
    [a, b] = await Promise.all([gateway(env), gateway(env)]);
    await vi.waitFor(() => expect(a.gateway.limits.connected && b.gateway.limits.connected).toBe(true));
  });

  it('hold one requests-per-minute budget together, then answer 429 with Retry-After on either', async () => {
    const token = await tokenFor('shared-client');
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (const gw of [a, b, a, b, a]) {
      const res = await chat(gw, token);
      statuses.push(res.status);
      remaining.push(res.headers.get('x-ratelimit-remaining-requests'));
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('5');
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    // OpenAI's x-ratelimit-* headers, counting down across both replicas.
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const served = groq.requests.length;
    for (const gw of [a, b]) {
      const refused = await chat(gw, token);
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatch(/^Rate limit exceeded for 'shared-client': 5 requests per minute; retry in \d+s$/);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Refused requests never reached the provider, and each replica counted its refusal.
    expect(groq.requests.length).toBe(served);
    for (const gw of [a, b]) {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('gateway_rate_limited_total{subject="shared-client",limit="requests"} 1');
    }
  });

  it('answers GraphQL with RATE_LIMITED and the retry time once the budget is spent', async () => {
    const token = await tokenFor('tiny-client');
    const first = await gql(b.url, 'mutation { chatCompletion(input: { model: "groq/llama", messages: [{ role: USER, content: "hi" }] }) { id } }', undefined, {
      authorization: `Bearer ${token}`,
    });
    // The budget travels with the call in extensions.gateway, as REST's x-ratelimit-* headers.
    expect((first as any).extensions.gateway.calls[0].rateLimit).toEqual({ requests: { limit: 1, remaining: 0, resetSeconds: expect.any(Number) } });
    const res = await gql(a.url, 'mutation { chatCompletion(input: { model: "groq/llama", messages: [{ role: USER, content: "hi" }] }) { id } }', undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(res.data).toEqual({ chatCompletion: null });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'requests_per_minute' });
    expect(res.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it('keeps each subject to its own budget: one client spending its budget leaves others alone', async () => {
    const tiny = await tokenFor('tiny-client'); // spent in the test above
    expect((await chat(a, tiny)).status).toBe(429);
    const other = await tokenFor('other-client');
    expect((await chat(a, other)).status).toBe(200);
    // rpm 0 in an override: unlimited, even above the default of 5.
    const free = await tokenFor('free-client');
    for (let i = 0; i < 8; i++) expect((await chat(i % 2 ? a : b, free)).status).toBe(200);
  });

  it('charges tokens from reported usage, streams included, and refuses once the token budget is spent', async () => {
    const token = await tokenFor('token-client'); // 100 tokens per minute
    const first = await chat(a, token);
    expect(first.status).toBe(200); // 44 used
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe(String(100 - TOKENS_PER_HI)); // after this answer's usage
    const stream = await fetch(`${b.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'groq/llama', messages: HI, stream: true }),
    });
    expect(stream.status).toBe(200);
    const frames = await readSseData(stream);
    expect(frames.at(-1)).toBe('[DONE]');
    expect(JSON.parse(frames.at(-2)!).usage.total_tokens).toBe(TOKENS_PER_HI); // 88 used
    expect((await chat(a, token)).status).toBe(200); // under 100 when admitted; 132 used
    const refused = await chat(b, token);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatch(/100 tokens per minute/);
  });

  it('answers Query.rateLimit with the shared budgets, spending nothing', async () => {
    const token = await tokenFor('peek-client');
    const headers = { authorization: `Bearer ${token}` };
    await chat(a, token);
    await chat(b, token);
    for (const gw of [a, b, a]) {
      const res = await gql(gw.url, RateLimitDocument, {}, headers);
      expect(res.data?.rateLimit).toEqual({ subject: 'peek-client', requests: { limit: 5, remaining: 3, resetSeconds: expect.any(Number) }, tokens: null });
    }
    const tokenBudget = await gql(b.url, RateLimitDocument, {}, { authorization: `Bearer ${await tokenFor('token-client')}` });
    expect(tokenBudget.data?.rateLimit.tokens).toMatchObject({ limit: 100, remaining: 0 }); // spent in the test above
  });

  it('counts the budget in Redis, where every replica sees it', async () => {
    const token = await tokenFor('visible-client');
    await chat(a, token);
    await chat(b, token);
    const client = new Redis(redis.url);
    try {
      expect(await client.get('gateway:rpm:visible-client')).toBe('2');
      const ttl = await client.pttl('gateway:rpm:visible-client');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      client.disconnect();
    }
  });
});

describe('in memory (no REDIS_URL)', () => {
  it('enforces the budget per replica', async () => {
    const env = { RATE_LIMIT_REQUESTS_PER_MINUTE: '3' };
    const [a, b] = await Promise.all([gateway(env), gateway(env)]);
    expect(a.gateway.limits.store).toBe('memory');
    const token = await tokenFor('memory-client');
    const statuses: number[] = [];
    for (const gw of [a, a, a, b, b, b, a, b]) statuses.push((await chat(gw, token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });

  it('without auth, limits every caller together as "anonymous"', async () => {
    const gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'k', RATE_LIMIT_REQUESTS_PER_MINUTE: '1' });
    gateways.push(gw);
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/llama', messages: HI })).status).toBe(200);
    const refused = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/llama', messages: HI });
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatch(/'anonymous'/);
  });

  it('counts raw /proxy calls against the requests budget', async () => {
    const gw = await gateway({ RATE_LIMIT_REQUESTS_PER_MINUTE: '1' });
    const token = await tokenFor('proxy-client');
    const proxied = () => fetch(`${gw.url}/proxy/groq/models`, { headers: { authorization: `Bearer ${token}` } });
    expect((await proxied()).status).toBe(200);
    expect((await proxied()).status).toBe(429);
  });

  it('keys budgets by sub when RATE_LIMIT_SUBJECT_CLAIM=sub', async () => {
    const gw = await gateway({ RATE_LIMIT_REQUESTS_PER_MINUTE: '1', RATE_LIMIT_SUBJECT_CLAIM: 'sub' });
    const alice = await idp.token({ azp: 'same-app', sub: 'alice' });
    const bob = await idp.token({ azp: 'same-app', sub: 'bob' });
    expect((await chat(gw, alice)).status).toBe(200);
    expect((await chat(gw, bob)).status).toBe(200);
    expect((await chat(gw, alice)).status).toBe(429);
  });
});

describe('when Redis is unreachable', () => {
  let outage: RedisServer;
  let open: TestGateway;
  let closed: TestGateway;
  beforeAll(async () => {
    outage = await startRedis();
    const env = { REDIS_URL: outage.url, RATE_LIMIT_REQUESTS_PER_MINUTE: '2', REDIS_TIMEOUT: '300ms' };
    [open, closed] = await Promise.all([gateway(env), gateway({ ...env, RATE_LIMIT_FAILURE_MODE: 'closed' })]);
    await vi.waitFor(() => expect(open.gateway.limits.connected && closed.gateway.limits.connected).toBe(true));
  });
  afterAll(() => outage.close());

  // A hung store must not hang requests: every request here must finish well inside this.
  const bounded = { signal: undefined as AbortSignal | undefined };
  const chatBounded = async (gw: TestGateway, token: string) => {
    bounded.signal = AbortSignal.timeout(5000);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'groq/llama', messages: HI }),
      signal: bounded.signal,
    });
    return { status: res.status, json: await res.json() };
  };

  it('fails open by default (requests served, failure counted) and closed when configured (503)', async () => {
    await outage.stop();
    await vi.waitFor(() => expect(open.gateway.limits.connected || closed.gateway.limits.connected).toBe(false));
    const token = await tokenFor('outage-client');
    for (let i = 0; i < 3; i++) expect((await chatBounded(open, token)).status).toBe(200); // over the budget of 2: not enforced
    const refused = await chatBounded(closed, token);
    expect(refused).toEqual({ status: 503, json: { error: 'Rate limit store is unavailable; retry shortly' } });
    const peek = await gql(open.url, RateLimitDocument, {}, { authorization: `Bearer ${token}` });
    expect(peek.errors?.[0]).toMatchObject({ message: 'Rate limit store is unavailable; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } });
    const metrics = await (await fetch(`${open.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_rate_limit_store_errors_total\{outcome="allowed"\} 3/);
    expect(open.logs()).toContain('rate limit store failed');
  });

  it('recovers when Redis comes back', async () => {
    await outage.start();
    await vi.waitFor(() => expect(open.gateway.limits.connected && closed.gateway.limits.connected).toBe(true), { timeout: 10_000 });
    const token = await tokenFor('after-outage-client');
    const statuses: number[] = [];
    for (const gw of [open, closed, open]) statuses.push((await chatBounded(gw, token)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('answers within the Redis timeout when Redis hangs (connection open, no replies)', async () => {
    const token = await tokenFor('hung-client');
    outage.pause();
    try {
      expect((await chatBounded(open, token)).status).toBe(200);
      expect((await chatBounded(closed, token)).status).toBe(503);
    } finally {
      outage.resume();
    }
  });
});


describe('configuration', () => {
  it('names every bad limits variable at start-up', async () => {
    const { ConfigError, loadConfig } = await import('../src/config.js');
    let error: InstanceType<typeof ConfigError> | undefined;
    try {
      loadConfig({
        REDIS_URL: 'http://redis:6379',
        RATE_LIMIT_REQUESTS_PER_MINUTE: '-1',
        RATE_LIMIT_FAILURE_MODE: 'sometimes',
        RATE_LIMIT_SUBJECT_CLAIM: 'email',
        RATE_LIMIT_OVERRIDES: '{"bot":{"rpm":"ten"}}',
        REDIS_TIMEOUT: 'soon',
      });
    } catch (e) {
      error = e as InstanceType<typeof ConfigError>;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = error!.problems.join('\n');
    expect(problems).toContain('REDIS_URL must be a redis:// or rediss:// URL');
    expect(problems).toContain('RATE_LIMIT_REQUESTS_PER_MINUTE="-1" must be an integer between 0 and');
    expect(problems).toContain('RATE_LIMIT_FAILURE_MODE="sometimes" must be one of open, closed');
    expect(problems).toContain('RATE_LIMIT_SUBJECT_CLAIM="email" must be one of azp, sub');
    expect(problems).toMatch(/RATE_LIMIT_OVERRIDES at "bot"\."rpm": .*expected e\.g\./);
    expect(problems).toContain('REDIS_TIMEOUT="soon" is not a duration');
  });
});

describe('a replica that has just started', () => {
  it('waits for its first Redis connection (up to REDIS_TIMEOUT) instead of serving its first requests unbudgeted', async () => {
    // A Redis that accepts the connection but answers nothing yet: the client stays not-ready.
    const slow = await startRedis();
    slow.pause();
    try {
      const gw = await gateway({ REDIS_URL: slow.url, REDIS_TIMEOUT: '5s', RATE_LIMIT_FAILURE_MODE: 'closed', RATE_LIMIT_REQUESTS_PER_MINUTE: '5' });
      const token = await tokenFor('early-bird');
      const first = chat(gw, token);
      // Redis comes up while the first request waits for the connection: it is served and counted.
      setTimeout(() => slow.resume(), 300);
      const res = await first;
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('4');
    } finally {
      slow.resume();
      await slow.close();
    }
  });
});
