/**
 * Daily spend limits per subject (SPEND_LIMIT_USD_PER_DAY, SPEND_LIMIT_OVERRIDES) with known prices:
 * calls are admitted until the subject's spend reaches its limit, then refused — REST 429 with
 * Retry-After and the documented message, GraphQL RATE_LIMITED with extensions.limitUsd — and
 * counted in /metrics; `0` in an override is unlimited; Query.rateLimit reports where a subject
 * stands; two replicas sharing Redis hold one limit together.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

let redis: RedisServer;
let idp: OidcIssuer;
let groq: FakeProvider;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  [redis, idp, groq] = await Promise.all([startRedis(), startOidcIssuer(), startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' })]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all([redis?.close(), idp?.close(), groq?.close()]);
});

// The fake reports usage in characters: for "hi", prompt = the JSON of the messages (32, of which 16
// cached), completion = "You said: hi" (12). At $10,000 / $20,000 per million tokens (no cached-input
// price: cached tokens cost the input price) a call costs 32 × 0.01 + 12 × 0.02 = $0.56.
const PRICES = { 'groq/pricey': { input: 10_000, output: 20_000 } };
const CALL_USD = 0.56;
const HI = [{ role: 'user', content: 'hi' }];

async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: idp.issuer,
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'k',
    MODEL_PRICES: JSON.stringify(PRICES),
    SPEND_LIMIT_USD_PER_DAY: '1',
    ...env,
  });
  gateways.push(gw);
  return gw;
}

const tokenFor = (client: string) => idp.token({ azp: client, sub: `user-of-${client}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function chat(gw: TestGateway, token: string, model = 'groq/pricey') {
  return postJson(`${gw.url}/v1/chat/completions`, { model, messages: HI }, bearer(token));
}

const RATE_LIMIT = 'query { rateLimit { subject spend { limitUsd spentUsd remainingUsd resetSeconds } } }';
interface SpendView {
  rateLimit: { subject: string; spend: { limitUsd: number; spentUsd: number; remainingUsd: number; resetSeconds: number } | null };
}

async function spendOf(gw: TestGateway, token: string) {
  const res = await gql<SpendView, undefined>(gw.url, RATE_LIMIT, undefined, bearer(token));
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.rateLimit;
}

/** Seconds until the UTC day turns, as the gateway counts them. */
const secondsToMidnight = () => Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);

/** "3h05m", "12m", "45s" → seconds (the lower bound the text allows). */
function parseResetsIn(text: string): number {
  const m = /^(?:(\d+)h(\d{2})m|(\d+)m|(\d+)s)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  if (m[1] !== undefined) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  if (m[3] !== undefined) return Number(m[3]) * 60;
  return Number(m[4]);
}

/** The REST refusal: 429, Retry-After to the end of the UTC day, and the documented message. */
function expectSpendRefusal(res: Awaited<ReturnType<typeof postJson>>, subject: string, limit: string): void {
  expect(res.status, res.text).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(Math.abs(retryAfter - secondsToMidnight())).toBeLessThanOrEqual(2);
  const escaped = subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^Spend limit exceeded for '${escaped}': \\$${limit.replace('.', '\\.')} per day; resets in (\\S+)$`).exec(res.json?.error);
  expect(match, res.text).not.toBeNull();
  // "resets in" says the same as Retry-After, to the minute.
  const shown = parseResetsIn(match![1]!);
  expect(retryAfter - shown).toBeGreaterThanOrEqual(0);
  expect(retryAfter - shown).toBeLessThan(retryAfter >= 60 ? 60 : 1);
}

async function metricLine(gw: TestGateway, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_rate_limited_total{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('one gateway (in-memory spend)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway({ SPEND_LIMIT_OVERRIDES: JSON.stringify({ 'free-client': 0, 'rich-client': 5 }) });
  });

  it('admits calls until the day’s spend reaches the limit, then refuses REST with 429 and GraphQL with RATE_LIMITED', async () => {
    const token = await tokenFor('spender');
    // Before any call: nothing spent.
    const fresh = await spendOf(gw, token);
    expect(fresh.subject).toBe('spender');
    expect(fresh.spend).toEqual({ limitUsd: 1, spentUsd: 0, remainingUsd: 1, resetSeconds: expect.any(Number) });
    expect(Math.abs(fresh.spend!.resetSeconds - secondsToMidnight())).toBeLessThanOrEqual(2);

    expect((await chat(gw, token)).status).toBe(200);
    const afterOne = (await spendOf(gw, token)).spend!;
    expect(afterOne.spentUsd).toBeCloseTo(CALL_USD, 9);
    expect(afterOne.remainingUsd).toBeCloseTo(1 - CALL_USD, 9);
    // $0.56 spent is under $1: admitted (the limit is checked before a call, charged after it).
    expect((await chat(gw, token)).status).toBe(200);
    const afterTwo = (await spendOf(gw, token)).spend!;
    expect(afterTwo.spentUsd).toBeCloseTo(2 * CALL_USD, 9);
    expect(afterTwo.remainingUsd).toBe(0);
    expect(afterTwo.limitUsd).toBe(1);

    const served = groq.requests.length;
    expectSpendRefusal(await chat(gw, token), 'spender', '1.00');
    // A stream is refused before it starts, the same way.
    const stream = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/pricey', messages: HI, stream: true }, bearer(token));
    expectSpendRefusal(stream, 'spender', '1.00');
    // Any model, even an unpriced one: the subject is over its limit for the day.
    expectSpendRefusal(await chat(gw, token, 'groq/llama'), 'spender', '1.00');

    const res = await gql<any, undefined>(gw.url, 'mutation { chatCompletion(input: { model: "groq/pricey", messages: [{ role: USER, content: "hi" }] }) { id } }', undefined, bearer(token));
    expect(res.status).not.toBe(500);
    expect(res.data).toEqual({ chatCompletion: null });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limitUsd: 1 });
    expect(res.errors?.[0]?.message).toMatch(/^Spend limit exceeded for 'spender': \$1\.00 per day; resets in \S+$/);
    // Refused calls never reach the provider, and are counted.
    expect(groq.requests.length).toBe(served);
    expect(await metricLine(gw, 'subject="spender",limit="spend"')).toBe(4);

    // Others are unaffected.
    expect((await chat(gw, await tokenFor('bystander'))).status).toBe(200);
  });

  it('charges streams (and a stream’s client can’t dodge the charge)', async () => {
    const token = await tokenFor('streamer');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ model: 'groq/pricey', messages: HI, stream: true }),
      });
      expect(res.status).toBe(200);
      expect((await readSseData(res)).at(-1)).toBe('[DONE]');
    }
    expect((await spendOf(gw, token)).spend!.spentUsd).toBeCloseTo(2 * CALL_USD, 9);
    expectSpendRefusal(await chat(gw, token), 'streamer', '1.00');
  });

  it('takes SPEND_LIMIT_OVERRIDES: 0 is unlimited, another amount replaces the default', async () => {
    const free = await tokenFor('free-client');
    for (let i = 0; i < 4; i++) expect((await chat(gw, free)).status).toBe(200); // $2.24, over the default $1
    expect((await spendOf(gw, free)).spend).toBeNull();

    const rich = await tokenFor('rich-client');
    // $5 a day: 9 calls are admitted ($4.48 spent before the 9th), the 10th is refused.
    for (let i = 0; i < 9; i++) expect((await chat(gw, rich)).status, `call ${i + 1}`).toBe(200);
    expect((await spendOf(gw, rich)).spend).toMatchObject({ limitUsd: 5, remainingUsd: 0 });
    expect((await spendOf(gw, rich)).spend!.spentUsd).toBeCloseTo(9 * CALL_USD, 9);
    expectSpendRefusal(await chat(gw, rich), 'rich-client', '5.00');
    expect(await metricLine(gw, 'subject="rich-client",limit="spend"')).toBe(1);
  });

  it('does not count calls that cost nothing: unpriced models and failures', async () => {
    const token = await tokenFor('thrifty');
    for (let i = 0; i < 3; i++) expect((await chat(gw, token, 'groq/llama')).status).toBe(200);
    expect((await chat(gw, token, 'groq/fail-500')).status).toBeGreaterThanOrEqual(500);
    expect((await spendOf(gw, token)).spend).toMatchObject({ spentUsd: 0, remainingUsd: 1 });
  });
});

describe('without a limit', () => {
  it('reports spend as null and never refuses', async () => {
    const gw = await gateway({ SPEND_LIMIT_USD_PER_DAY: '0' });
    const token = await tokenFor('anyone');
    for (let i = 0; i < 3; i++) expect((await chat(gw, token)).status).toBe(200);
    expect((await spendOf(gw, token)).spend).toBeNull();
  });
});

describe('two replicas sharing one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    // Closed on a store failure: a replica that has not reached Redis yet refuses rather than admitting unchecked.
    const env = { REDIS_URL: redis.url, RATE_LIMIT_FAILURE_MODE: 'closed' };
    [a, b] = await Promise.all([gateway(env), gateway(env)]);
    const probe = await tokenFor('probe');
    for (const gw of [a, b]) {
      await vi.waitFor(async () => expect((await gql<SpendView, undefined>(gw.url, RATE_LIMIT, undefined, bearer(probe))).errors).toBeUndefined(), { timeout: 10_000 });
    }
  });

  it('hold one spend limit together: refused on either once the shared spend reaches it', async () => {
    const token = await tokenFor('shared-spender');
    expect((await chat(a, token)).status).toBe(200);
    // b sees what a charged.
    expect((await spendOf(b, token)).spend!.spentUsd).toBeCloseTo(CALL_USD, 9);
    expect((await chat(b, token)).status).toBe(200);
    expect((await spendOf(a, token)).spend!.spentUsd).toBeCloseTo(2 * CALL_USD, 9);
    for (const gw of [a, b]) expectSpendRefusal(await chat(gw, token), 'shared-spender', '1.00');
    const res = await gql<any, undefined>(b.url, 'mutation { chatCompletion(input: { model: "groq/pricey", messages: [{ role: USER, content: "hi" }] }) { id } }', undefined, bearer(token));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limitUsd: 1 });
    expect(await metricLine(a, 'subject="shared-spender",limit="spend"')).toBe(1);
    expect(await metricLine(b, 'subject="shared-spender",limit="spend"')).toBe(2);
  });

  it('keeps each subject to its own spend', async () => {
    expect((await chat(a, await tokenFor('second-spender'))).status).toBe(200);
    expect((await spendOf(b, await tokenFor('second-spender'))).spend!.spentUsd).toBeCloseTo(CALL_USD, 9);
  });
});
