/**
 * The usage ledger end to end, against both stores it supports: an embedded PGlite directory and a
 * real PostgreSQL server (Debian's, on loopback). For each: a known sequence of calls (two OAuth
 * clients, priced, unpriced and glob-priced models, JSON, streamed, a stream its client left, a
 * stream its provider cut, a provider failure, embeddings, REST and GraphQL) gives exactly the
 * totals the fake provider's usage implies; the raw table holds what the report sums; who may read
 * what; bad arguments are bad input, never a 500; records survive a restart and a SIGTERM-style
 * shutdown; migrations run once. Postgres only: replicas sharing one database, and a database that
 * is stopped or hung neither fails nor slows requests, and gets its records once it is back.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MIGRATIONS } from '../src/ledger/store.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';
import { freshPgliteDir, removePgliteDirs, warmPglite, withPglite } from './helpers/pglite.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let idp: OidcIssuer;
let fake: FakeProvider;
let postgres: TestPostgres;
const gateways = new Set<TestGateway>();

beforeAll(async () => {
  [idp, fake, postgres] = await Promise.all([
    startOidcIssuer(),
    startFakeProvider({ basePath: '/openai/v1', apiKey: 'k', models: ['model-a', 'model-b', 'model-c'] }),
    startPostgres(),
    warmPglite(),
  ]);
}, 60_000);

afterAll(async () => {
  postgres?.resume();
  await Promise.all([...gateways].map((g) => g.close().catch(() => {})));
  await Promise.all([idp?.close(), fake?.close(), postgres?.close()]);
  removePgliteDirs();
});

/** USD per million tokens. model-c, fail-500 are left unpriced; the glob prices the fake's stream misbehaviours. */
const PRICES = {
  'groq/model-a': { input: 1, output: 2, cachedInput: 0.5 },
  'groq/model-b': { input: 10, output: 20 },
  'groq/*-stream': { input: 3, output: 6 },
  'openai/embed-small': { input: 0.1, output: 0 },
};

async function startGw(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({
    GROQ_API_URL: fake.url,
    GROQ_API_KEY: 'k',
    OPENAI_API_URL: fake.url,
    OPENAI_API_KEY: 'k',
    MODEL_PRICES: JSON.stringify(PRICES),
    USAGE_FLUSH_INTERVAL: '100ms',
    ...env,
  });
  gateways.add(gw);
  return gw;
}

async function stopGw(gw: TestGateway | undefined): Promise<void> {
  if (!gw) return;
  await gw.close();
  gateways.delete(gw);
}

const authEnv = () => ({ ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer });
const tokenOf = (client: string, claims: Record<string, unknown> = {}) => idp.token({ azp: client, sub: `user-of-${client}`, ...claims });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// ---------------------------------------------------------------------------------------------
// What the fake provider reports (fake-provider.ts usageFor): prompt = length of the JSON of the
// messages, completion = length of "You said: <last user text>", cached = floor(prompt / 2),
// reasoning = floor(completion / 3) when reasoning_effort is set. Embeddings: ceil(length / 4) per
// input. A stream that ends without usage is estimated by the gateway at ~4 characters per token.

interface Tokens {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
}

function reported(content: string, reasoningEffort = false): Tokens {
  const prompt = JSON.stringify([{ role: 'user', content }]).length;
  const completion = `You said: ${content}`.length;
  return { prompt, completion, cached: Math.floor(prompt / 2), reasoning: reasoningEffort ? Math.floor(completion / 3) : 0 };
}

function usd(price: { input: number; output: number; cachedInput?: number } | undefined, t: Tokens): number {
  if (!price) return 0;
  return ((t.prompt - t.cached) * price.input + t.cached * (price.cachedInput ?? price.input) + t.completion * price.output) / 1e6;
}

interface Expected extends Tokens {
  requestId: string;
  client: string;
  provider: string;
  model: string;
  operation: 'chat' | 'embeddings';
  status: string;
  costUsd: number;
  priced: boolean;
  estimated: boolean;
  stream: boolean;
}

const USAGE = `query Usage($from: DateTime, $to: DateTime, $groupBy: [UsageDimension!], $subject: String) {
  usage(from: $from, to: $to, groupBy: $groupBy, subject: $subject) { from to rows { ...R } total { ...R } }
}
fragment R on UsageRow { subject client provider model period requests errors promptTokens completionTokens cachedTokens reasoningTokens costUsd }`;

interface Row {
  subject: string | null;
  client: string | null;
  provider: string | null;
  model: string | null;
  period: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
}

interface UsageArgs {
  from?: string;
  to?: string;
  groupBy?: string[];
  subject?: string;
}

async function usage(gw: TestGateway, args: UsageArgs = {}, headers: Record<string, string> = {}) {
  return gql<{ usage: { from: string; to: string; rows: Row[]; total: Row } | null }, UsageArgs>(gw.url, USAGE, args, headers);
}

/** The report, which must have no errors. */
async function report(gw: TestGateway, args: UsageArgs = {}, headers: Record<string, string> = {}) {
  const res = await usage(gw, { from: WINDOW.from, to: WINDOW.to, ...args }, headers);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.usage!;
}

/** Polls the report until its total counts `requests` (records are written in the background). */
async function reportOnce(gw: TestGateway, requests: number, args: UsageArgs = {}, headers: Record<string, string> = {}) {
  await expect.poll(async () => (await report(gw, args, headers)).total.requests, { timeout: 15_000, interval: 100 }).toBe(requests);
  return report(gw, args, headers);
}

// A window around this file's run: explicit, so no test depends on "today" starting before it.
const WINDOW = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };
const TODAY = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();

function sum(records: readonly Expected[]): Omit<Row, 'subject' | 'client' | 'provider' | 'model' | 'period'> {
  return {
    requests: records.length,
    errors: records.filter((r) => r.status !== 'ok').length,
    promptTokens: records.reduce((n, r) => n + r.prompt, 0),
    completionTokens: records.reduce((n, r) => n + r.completion, 0),
    cachedTokens: records.reduce((n, r) => n + r.cached, 0),
    reasoningTokens: records.reduce((n, r) => n + r.reasoning, 0),
    costUsd: records.reduce((n, r) => n + r.costUsd, 0),
  };
}

/** Compares a report row with expected sums: counts exactly, cost to 9 digits. */
function expectRow(row: Row, want: ReturnType<typeof sum>, label: string): void {
  const { costUsd, ...counts } = want;
  expect({ ...row, costUsd: 0 }, label).toMatchObject({ ...counts, costUsd: 0 });
  expect(row.costUsd, `${label} costUsd`).toBeCloseTo(costUsd, 9);
}

function groupBy<K extends string>(records: readonly Expected[], key: (r: Expected) => K): Map<K, Expected[]> {
  const groups = new Map<K, Expected[]>();
  for (const r of records) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return groups;
}

/** Same groups, same sums (order checked separately where it matters). */
function expectRows(rows: Row[], records: readonly Expected[], key: (r: Row | Expected) => string, label: string): void {
  const want = groupBy(records, key);
  expect(rows.map(key).sort(), `${label}: groups`).toEqual([...want.keys()].sort());
  for (const row of rows) expectRow(row, sum(want.get(key(row))!), `${label} ${key(row)}`);
}

let requestCounter = 0;
const nextRequestId = (prefix: string) => `${prefix}-${++requestCounter}`;

/**
 * The known sequence: 10 provider calls by two clients (and one more through GraphQL), every kind
 * of ending. Returns what the ledger must hold.
 */
async function knownSequence(gw: TestGateway, prefix: string): Promise<Expected[]> {
  const one = await tokenOf('client-one');
  const two = await tokenOf('client-two');
  const expected: Expected[] = [];
  const base = { provider: 'groq', operation: 'chat' as const, status: 'ok', priced: true, estimated: false, stream: false };

  const json = async (token: string, model: string, content: string, extra: Record<string, unknown> = {}) => {
    const requestId = nextRequestId(prefix);
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: `groq/${model}`, messages: [{ role: 'user', content }], ...extra }, { ...bearer(token), 'x-request-id': requestId });
    return { res, requestId };
  };

  // 1, 2: client-one, model-a (with a cached-input price); the second one reasons.
  for (const [content, effort] of [['hello there', false], ['think hard', true]] as const) {
    const { res, requestId } = await json(one, 'model-a', content, effort ? { reasoning_effort: 'high' } : {});
    expect(res.status, res.text).toBe(200);
    const t = reported(content, effort);
    // The fake's usage, as relayed, is what the formula says (the gateway sent the messages as they came).
    expect(res.json.usage).toMatchObject({ prompt_tokens: t.prompt, completion_tokens: t.completion });
    expect(res.json.usage.completion_tokens_details.reasoning_tokens).toBe(t.reasoning);
    expected.push({ ...base, ...t, requestId, client: 'client-one', model: 'model-a', costUsd: usd(PRICES['groq/model-a'], t) });
  }
  // 3: client-two, model-b (no cached-input price: cached tokens cost the input price).
  {
    const { res, requestId } = await json(two, 'model-b', 'bonjour');
    expect(res.status, res.text).toBe(200);
    const t = reported('bonjour');
    expected.push({ ...base, ...t, requestId, client: 'client-two', model: 'model-b', costUsd: usd(PRICES['groq/model-b'], t) });
  }
  // 4: client-two, model-c: no price anywhere → cost 0, priced false.
  {
    const { res, requestId } = await json(two, 'model-c', 'nobody priced me');
    expect(res.status, res.text).toBe(200);
    expected.push({ ...base, ...reported('nobody priced me'), requestId, client: 'client-two', model: 'model-c', costUsd: 0, priced: false });
  }
  // 5: client-one, a stream of model-b run to its end: usage as reported in its last chunk.
  {
    const requestId = nextRequestId(prefix);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(one), 'x-request-id': requestId },
      body: JSON.stringify({ model: 'groq/model-b', messages: [{ role: 'user', content: 'stream this' }], stream: true }),
    });
    expect(res.status).toBe(200);
    const frames = await readSseData(res);
    expect(frames.at(-1)).toBe('[DONE]');
    const t = reported('stream this');
    expect(JSON.parse(frames.at(-2)!).usage).toMatchObject({ prompt_tokens: t.prompt, completion_tokens: t.completion });
    expected.push({ ...base, ...t, requestId, client: 'client-one', model: 'model-b', costUsd: usd(PRICES['groq/model-b'], t), stream: true });
  }
  // 6: client-two, a stream its client leaves after the first chunk (slow-stream: one empty chunk,
  // then silence): tokens estimated from the prompt's 8 characters (2) and no text (0).
  {
    const requestId = nextRequestId(prefix);
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(two), 'x-request-id': requestId },
      body: JSON.stringify({ model: 'groq/slow-stream', messages: [{ role: 'user', content: 'abort me' }], stream: true }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"role":"assistant"')) text += new TextDecoder().decode((await reader.read()).value);
    const aborted = fake.nextAbort();
    controller.abort();
    await aborted;
    const t = { prompt: 2, completion: 0, cached: 0, reasoning: 0 };
    expected.push({ ...base, ...t, requestId, client: 'client-two', model: 'slow-stream', status: 'CLIENT_CLOSED_REQUEST', costUsd: usd(PRICES['groq/*-stream'], t), estimated: true, stream: true });
  }
  // 7: client-two, a stream its provider cuts after "You ": estimated 12 characters → 3, "You " → 1.
  {
    const requestId = nextRequestId(prefix);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(two), 'x-request-id': requestId },
      body: JSON.stringify({ model: 'groq/cut-stream', messages: [{ role: 'user', content: 'cut me short' }], stream: true }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const t = { prompt: 3, completion: 1, cached: 0, reasoning: 0 };
    expected.push({ ...base, ...t, requestId, client: 'client-two', model: 'cut-stream', status: CUT_STREAM_STATUS, costUsd: usd(PRICES['groq/*-stream'], t), estimated: true, stream: true });
  }
  // 8: client-one, a provider failure: no tokens, an error, unpriced.
  {
    const { res, requestId } = await json(one, 'fail-500', 'this fails');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expected.push({ ...base, prompt: 0, completion: 0, cached: 0, reasoning: 0, requestId, client: 'client-one', model: 'fail-500', status: 'UPSTREAM_ERROR', costUsd: 0, priced: false });
  }
  // 9: client-one, embeddings from another provider: ceil(8/4) + ceil(3/4) = 3 input tokens.
  {
    const requestId = nextRequestId(prefix);
    const res = await postJson(`${gw.url}/v1/embeddings`, { model: 'openai/embed-small', input: ['abcdefgh', 'xyz'] }, { ...bearer(one), 'x-request-id': requestId });
    expect(res.status, res.text).toBe(200);
    expect(res.json.usage.prompt_tokens).toBe(3);
    const t = { prompt: 3, completion: 0, cached: 0, reasoning: 0 };
    expected.push({ ...base, ...t, requestId, provider: 'openai', operation: 'embeddings', client: 'client-one', model: 'embed-small', costUsd: usd(PRICES['openai/embed-small'], t) });
  }
  // 10: client-two, through GraphQL.
  {
    const requestId = nextRequestId(prefix);
    const res = await gql(gw.url, 'mutation { chatCompletion(input: { model: "groq/model-a", messages: [{ role: USER, content: "via graphql" }] }) { id } }', undefined, {
      ...bearer(two),
      'x-request-id': requestId,
    });
    expect(res.errors).toBeUndefined();
    const t = reported('via graphql');
    expected.push({ ...base, ...t, requestId, client: 'client-two', model: 'model-a', costUsd: usd(PRICES['groq/model-a'], t) });
  }
  return expected;
}

/** What the gateway records for a stream its provider cut (an upstream failure mid-stream). */
const CUT_STREAM_STATUS = 'UPSTREAM_ERROR';

interface RawRecord {
  request_id: string | null;
  subject: string;
  client: string | null;
  operation: string;
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  tokens_estimated: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  status: string;
  cost_usd: number;
  priced: boolean;
}

interface Store {
  readonly name: 'pglite' | 'postgres';
  /** A USAGE_DATABASE_URL naming a new, empty database. */
  fresh(): Promise<string>;
  /**
   * Runs SQL on the database directly. PGlite: no gateway may have the directory open (close it
   * first); Postgres: any time.
   */
  sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]>;
}

let databases = 0;
const STORES: Store[] = [
  {
    name: 'pglite',
    fresh: async () => `pglite://${await freshPgliteDir()}`,
    sql: (url, text) => withPglite(url.slice('pglite://'.length), async (db) => (await db.query<any>(text)).rows),
  },
  {
    name: 'postgres',
    async fresh() {
      const name = `ledger_${++databases}`;
      await postgres.query(`create database ${name}`);
      return postgres.url.replace(/\/postgres$/, `/${name}`);
    },
    async sql(url, text) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    },
  },
];

async function metricValue(gw: TestGateway, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A JSON chat call that must be answered, and soon, whatever the database is doing. */
async function promptCall(gw: TestGateway, content: string) {
  const started = performance.now();
  const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/model-a', messages: [{ role: 'user', content }] });
  const ms = performance.now() - started;
  expect(res.status, res.text).toBe(200);
  expect(ms, 'a JSON call while the usage database is away').toBeLessThan(1_000);
}

describe.each(STORES)('usage ledger on $name', (store) => {
  let url: string;
  let gw: TestGateway | undefined;
  let expected: Expected[] = [];
  let admin: string;

  /** One gateway at a time on this store (PGlite: one process may have the directory open). */
  async function reopen(env: Record<string, string>): Promise<TestGateway> {
    await stopGw(gw);
    gw = await startGw({ USAGE_DATABASE_URL: url, ...env });
    return gw;
  }

  beforeAll(async () => {
    url = await store.fresh();
    admin = await tokenOf('admin-console', { realm_access: { roles: ['llm-user', 'gateway-admin'] } });
  });
  afterAll(async () => {
    await stopGw(gw);
    gw = undefined;
  });

  it('sums a known sequence of calls exactly: by client and model, by provider and day, and in total', async () => {
    const g = await reopen(authEnv());
    expected = await knownSequence(g, `${store.name}-seq`);
    const all = await reportOnce(g, expected.length, { groupBy: ['CLIENT', 'MODEL'] }, bearer(admin));

    expectRow(all.total, sum(expected), 'total');
    expect(all.total).toMatchObject({ subject: null, client: null, provider: null, model: null, period: null });
    // The exact figures, spelled out once, so a wrong formula above cannot hide a wrong ledger.
    // cached = floor(prompt / 2) of the six calls with reported usage (prompts of 41, 40, 37, 46, 41, 41
    // characters); reasoning = floor(20 / 3) for "You said: think hard".
    expect(all.total).toMatchObject({ requests: 10, errors: 3, cachedTokens: 20 + 20 + 18 + 23 + 20 + 20, reasoningTokens: 6 });

    expectRows(all.rows, expected, (r) => `${r.client}|${r.model}`, 'CLIENT+MODEL');
    expect(all.rows.every((r) => r.subject === null && r.provider === null && r.period === null)).toBe(true);
    // Ordered by the grouped dimensions.
    const keys = all.rows.map((r) => [r.client!, r.model!] as const);
    expect(keys).toEqual([...keys].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1)));
    const unpriced = all.rows.find((r) => r.client === 'client-two' && r.model === 'model-c')!;
    expect(unpriced.costUsd).toBe(0);
    expect(unpriced.promptTokens).toBeGreaterThan(0);
    const failed = all.rows.find((r) => r.model === 'fail-500')!;
    expect(failed).toMatchObject({ requests: 1, errors: 1, promptTokens: 0, completionTokens: 0, costUsd: 0 });

    const byProviderDay = await report(g, { groupBy: ['PROVIDER', 'DAY'] }, bearer(admin));
    // Every call was made today (UTC): one row per provider, its period the start of today.
    expectRows(byProviderDay.rows, expected, (r) => `${r.provider}|${'period' in r ? r.period : TODAY}`, 'PROVIDER+DAY');
    expect(byProviderDay.rows.map((r) => [r.provider, r.period])).toEqual([
      ['groq', TODAY],
      ['openai', TODAY],
    ]);
    expectRow(byProviderDay.total, sum(expected), 'total (PROVIDER+DAY)');

    const bySubject = await report(g, { groupBy: ['SUBJECT'] }, bearer(admin));
    expectRows(bySubject.rows, expected, (r) => ('subject' in r ? r.subject! : r.client), 'SUBJECT');
    const byHour = await report(g, { groupBy: ['HOUR'] }, bearer(admin));
    expect(byHour.rows.every((r) => r.period !== null && new Date(r.period).getTime() % 3_600_000 === 0)).toBe(true);
    expectRow(byHour.total, sum(expected), 'total (HOUR)');
  });

  it('shows a caller without the admin role its own subject only, and FORBIDDEN for anyone else', async () => {
    const g = gw!;
    const one = await tokenOf('client-one');
    const own = await report(g, { groupBy: ['CLIENT', 'MODEL'] }, bearer(one));
    const mine = expected.filter((r) => r.client === 'client-one');
    expect(new Set(own.rows.map((r) => r.client))).toEqual(new Set(['client-one']));
    expectRows(own.rows, mine, (r) => `${r.client}|${r.model}`, 'own rows');
    expectRow(own.total, sum(mine), 'own total');
    // Naming itself is fine; naming another is refused.
    expectRow((await report(g, { subject: 'client-one' }, bearer(one))).total, sum(mine), 'own total by name');
    const other = await usage(g, { ...WINDOW, subject: 'client-two' }, bearer(one));
    expect(other.status).not.toBe(500);
    expect(other.data?.usage ?? null).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(other.errors?.[0]?.message).toMatch(/gateway-admin/);

    // The admin role (a realm role, by default) reads everyone, or one subject by name.
    expectRow((await report(g, {}, bearer(admin))).total, sum(expected), 'admin total');
    const two = expected.filter((r) => r.client === 'client-two');
    expectRow((await report(g, { subject: 'client-two' }, bearer(admin))).total, sum(two), 'admin reading client-two');
  });

  it('takes USAGE_ADMIN_ROLE as a client role, and shows everything with auth off', async () => {
    const auditor = await tokenOf('auditor-app', { resource_access: { 'some-client': { roles: ['auditor'] } } });
    let g = await reopen({ ...authEnv(), USAGE_ADMIN_ROLE: 'some-client:auditor' });
    expectRow((await report(g, {}, bearer(auditor))).total, sum(expected), 'auditor total');
    expectRow((await report(g, { subject: 'client-one' }, bearer(auditor))).total, sum(expected.filter((r) => r.client === 'client-one')), 'auditor reading client-one');
    // gateway-admin is no longer the admin role here: its holder sees only itself (nothing).
    const demoted = await report(g, {}, bearer(admin));
    expect(demoted.total.requests).toBe(0);
    expect((await usage(g, { ...WINDOW, subject: 'client-one' }, bearer(admin))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    g = await reopen({});
    const open = await report(g, { groupBy: ['SUBJECT'] });
    expectRow(open.total, sum(expected), 'auth off total');
    expect(open.rows.map((r) => r.subject).sort()).toEqual(['client-one', 'client-two']);
  });

  it('answers bad arguments with BAD_USER_INPUT, never a 500; huge ranges are fine', async () => {
    const g = gw!; // auth off
    const bad = async (args: UsageArgs, inline?: string) => {
      const res = inline ? await gql<any, undefined>(g.url, `{ usage(${inline}) { total { requests } } }`) : await usage(g, args);
      expect(res.status, JSON.stringify(res)).not.toBe(500);
      expect(res.errors?.[0]?.extensions?.code, `${JSON.stringify(args)} ${inline ?? ''}: ${JSON.stringify(res.errors)}`).toBe('BAD_USER_INPUT');
      return res;
    };
    await bad({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    await bad({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect((await bad({ ...WINDOW, groupBy: ['DAY', 'HOUR'] })).errors![0]!.message).toMatch(/DAY or HOUR/);
    for (const from of ['yesterday', '2026-01-01', '2026-13-01T00:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01T00:00:00', '', '2026-01-01T00:00:00Zjunk']) {
      await bad({ from });
      await bad({}, `from: ${JSON.stringify(from)}`);
    }
    await bad({}, 'from: 12');
    await bad({ groupBy: ['WEEK'] });
    // An unknown enum value written into the document itself fails GraphQL validation (a 400 too).
    const week = await gql<any, undefined>(g.url, '{ usage(groupBy: [WEEK]) { total { requests } } }');
    expect(week.status).toBe(400);
    expect(week.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const huge = await report(g, { from: '0001-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z', groupBy: ['DAY'] });
    expectRow(huge.total, sum(expected), 'huge range');
    expect(huge.rows.map((r) => r.period)).toEqual([TODAY]);
    // Other time zones are the same instants.
    const shifted = await report(g, { from: WINDOW.from.replace('Z', '+00:00'), to: new Date(Date.parse(WINDOW.to)).toISOString().replace(/\.\d+Z$/, '+05:30') });
    expect(shifted.total.requests).toBe(expected.length);
  });

  it('never answers random usage(...) arguments with a 500 or INTERNAL_SERVER_ERROR (fast-check, seed 7101)', async () => {
    const g = gw!;
    const isoDate = fc
      .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
    const offsetDate = fc
      .tuple(isoDate, fc.integer({ min: -14, max: 14 }), fc.constantFrom('00', '30', '45'))
      .map(([d, h, m]) => d.replace('Z', `${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:${m}`));
    const dateText = fc.oneof(isoDate, offsetDate, fc.string(), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('0000-00-00T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z'));
    const dimension = fc.oneof(fc.constantFrom('SUBJECT', 'CLIENT', 'PROVIDER', 'MODEL', 'DAY', 'HOUR'), fc.string({ maxLength: 8 }));
    const args = fc.record(
      {
        from: fc.option(dateText, { nil: undefined }),
        to: fc.option(dateText, { nil: undefined }),
        groupBy: fc.option(fc.array(dimension, { maxLength: 7 }), { nil: undefined }),
        subject: fc.option(fc.oneof(fc.constantFrom('client-one', 'client-two', 'anonymous', ''), fc.string(), fc.string({ unit: 'binary', maxLength: 40 })), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(args, async (a) => {
        const res = await usage(g, a as UsageArgs);
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) throw new Error(`status ${res.status}: ${JSON.stringify(res.errors)}`);
        // The database is up: an argument that reaches it and fails there is bad input answered as an outage.
        if (codes.includes('SERVICE_UNAVAILABLE')) throw new Error(`SERVICE_UNAVAILABLE with the database up: ${JSON.stringify(res.errors)}`);
        if (!res.errors) expect(res.data?.usage?.total.requests).toBeGreaterThanOrEqual(0);
      }),
      { seed: 7101, numRuns: 150 },
    );
  });

  it('keeps request ids, prices, timings and estimates in the table the report sums', async () => {
    if (store.name === 'pglite') await stopGw(gw); // PGlite: one process at a time in the directory
    const rows = await store.sql<RawRecord>(url, 'select * from usage_records order by id');
    expect(rows).toHaveLength(expected.length);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect([...byId.keys()].sort()).toEqual(expected.map((e) => e.requestId).sort());
    for (const e of expected) {
      const r = byId.get(e.requestId)!;
      const label = `${e.requestId} (${e.model})`;
      expect(r, label).toMatchObject({
        subject: e.client,
        client: e.client,
        operation: e.operation,
        provider: e.provider,
        model: e.model,
        prompt_tokens: e.prompt,
        completion_tokens: e.completion,
        cached_tokens: e.cached,
        reasoning_tokens: e.reasoning,
        tokens_estimated: e.estimated,
        status: e.status,
        priced: e.priced,
      });
      expect(Number(r.cost_usd), label).toBeCloseTo(e.costUsd, 12);
      expect(Number(r.latency_ms), label).toBeGreaterThan(0);
      if (e.stream) {
        expect(r.ttft_ms, label).not.toBeNull();
        expect(Number(r.ttft_ms), label).toBeGreaterThan(0);
        expect(Number(r.ttft_ms), label).toBeLessThanOrEqual(Number(r.latency_ms));
      } else expect(r.ttft_ms, label).toBeNull();
    }
    expect(rows.filter((r) => !r.priced).map((r) => r.model).sort()).toEqual(['fail-500', 'model-c']);
  });

  it('keeps the records across a restart, and runs the migrations once', async () => {
    await stopGw(gw);
    gw = undefined;
    const before = await store.sql<{ version: number; name: string; applied_at: Date }>(url, 'select version, name, applied_at from usage_migrations order by version');
    expect(before.map((m) => Number(m.version))).toEqual(MIGRATIONS.map((m) => m.version));
    let g = await reopen({});
    expectRow((await report(g)).total, sum(expected), 'after a restart');
    g = await reopen({}); // and once more
    expectRow((await report(g)).total, sum(expected), 'after a second restart');
    if (store.name === 'pglite') await stopGw(gw);
    const after = await store.sql<{ version: number; name: string; applied_at: Date }>(url, 'select version, name, applied_at from usage_migrations order by version');
    expect(after).toEqual(before); // same rows, same applied_at: nothing ran again
    const count = await store.sql<{ n: number }>(url, 'select count(*)::int as n from usage_records');
    expect(count[0]!.n).toBe(expected.length);
  });

  it('writes every record on a SIGTERM-style shutdown, even with nothing flushed before', async () => {
    const fresh = await store.fresh();
    const g = await startGw({ USAGE_DATABASE_URL: fresh, USAGE_FLUSH_INTERVAL: '1h' });
    expect(await g.gateway.ledger.ready()).toBe(true);
    for (let i = 0; i < 4; i++) await promptCall(g, `before shutdown ${i}`);
    // A stream in flight when the shutdown begins: it drains, and is recorded too.
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'groq/paced-stream', messages: [{ role: 'user', content: 'still streaming' }], stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    expect(g.gateway.ledger.buffered).toBe(4); // nothing written yet (flush interval: 1 h)
    if (store.name === 'postgres') expect(await store.sql(fresh, 'select * from usage_records')).toHaveLength(0);
    const down = g.shutdown(5_000);
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toContain('[DONE]');
    await down;
    gateways.delete(g);
    const rows = await store.sql<RawRecord>(fresh, 'select * from usage_records order by id');
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(rows.at(-1)).toMatchObject({ model: 'paced-stream', tokens_estimated: false, subject: 'anonymous' });
  });

  // Registered for Postgres only (PGlite is one process's database: no replicas, no outages).
  if (store.name === 'postgres') describe('Postgres only', () => {
    it('two replicas on one database: both migrate safely, and either reports both replicas’ calls', async () => {
      const shared = await store.fresh();
      const [a, b] = await Promise.all([startGw({ USAGE_DATABASE_URL: shared }), startGw({ USAGE_DATABASE_URL: shared })]);
      expect(await Promise.all([a.gateway.ledger.ready(), b.gateway.ledger.ready()])).toEqual([true, true]);
      for (const [i, g] of [a, b, a, b, b].entries()) await promptCall(g, `replica call ${i}`);
      const want = sum([0, 1, 2, 3, 4].map((i) => ({ ...reported(`replica call ${i}`), status: 'ok', costUsd: usd(PRICES['groq/model-a'], reported(`replica call ${i}`)) }) as Expected));
      for (const g of [a, b]) expectRow((await reportOnce(g, 5)).total, want, 'either replica');
      const migrations = await store.sql<{ version: number }>(shared, 'select version from usage_migrations');
      expect(migrations.map((m) => Number(m.version)).sort()).toEqual(MIGRATIONS.map((m) => m.version));
      await Promise.all([stopGw(a), stopGw(b)]);
    });

    it('a stopped database neither fails nor slows requests; the buffered records are written once it is back', async () => {
      const db = await store.fresh();
      const g = await startGw({ USAGE_DATABASE_URL: db });
      await promptCall(g, 'before the outage');
      await reportOnce(g, 1); // written: the pool holds a connection the stop will break
      await postgres.stop();
      try {
        for (let i = 0; i < 4; i++) await promptCall(g, `during the outage ${i}`);
        await vi.waitFor(() => expect(g.logs()).toContain('usage ledger: writing failed'), { timeout: 10_000, interval: 50 });
        expect(g.gateway.ledger.buffered).toBe(4);
        expect(await metricValue(g, 'gateway_usage_records_dropped_total')).toBe(0);
        // The report says the database is away; it is not a 500.
        const away = await usage(g, WINDOW);
        expect(away.status).not.toBe(500);
        expect(away.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await postgres.start();
      }
      await reportOnce(g, 5);
      await vi.waitFor(() => expect(g.gateway.ledger.buffered).toBe(0), { timeout: 10_000 });
      expect(await store.sql(db, 'select * from usage_records')).toHaveLength(5);
      expect(await metricValue(g, 'gateway_usage_records_dropped_total')).toBe(0);
      expect(await metricValue(g, 'gateway_usage_records_written_total')).toBe(5);
      await stopGw(g);
    });

    it('a hung database (SIGSTOP) neither fails nor slows requests; resumed, it gets each record once', async () => {
      const db = await store.fresh();
      const g = await startGw({ USAGE_DATABASE_URL: db });
      await promptCall(g, 'before the hang');
      await reportOnce(g, 1);
      postgres.pause();
      try {
        for (let i = 0; i < 3; i++) await promptCall(g, `during the hang ${i}`);
        // The writer's statement times out (2 s) and the records stay buffered; requests meanwhile still answer at once.
        await vi.waitFor(() => expect(g.logs()).toContain('usage ledger: writing failed'), { timeout: 10_000, interval: 50 });
        await promptCall(g, 'during the hang, after the timeout');
        expect(g.gateway.ledger.buffered).toBe(4);
      } finally {
        postgres.resume();
      }
      await vi.waitFor(() => expect(g.gateway.ledger.buffered).toBe(0), { timeout: 15_000, interval: 100 });
      const rows = await store.sql<{ prompt_tokens: number }>(db, 'select prompt_tokens from usage_records order by id');
      // Each record once: the statement that timed out while the database hung must not land twice.
      expect(rows.map((r) => r.prompt_tokens).sort()).toEqual(
        ['before the hang', 'during the hang 0', 'during the hang 1', 'during the hang 2', 'during the hang, after the timeout'].map((c) => reported(c).prompt).sort(),
      );
      expect((await report(g)).total.requests).toBe(5);
      expect(await metricValue(g, 'gateway_usage_records_dropped_total')).toBe(0);
      await stopGw(g);
    });

    it('bounds the buffer at USAGE_BUFFER_SIZE: past it the oldest records are dropped and counted', async () => {
      const db = await store.fresh();
      const g = await startGw({ USAGE_DATABASE_URL: db, USAGE_BUFFER_SIZE: '3' });
      expect(await g.gateway.ledger.ready()).toBe(true);
      await postgres.stop();
      try {
        for (let i = 0; i < 5; i++) await promptCall(g, `overflow ${i}`);
        await vi.waitFor(() => expect(g.logs()).toContain('usage ledger: writing failed'), { timeout: 10_000, interval: 50 });
        // After the writer's failed attempt the bound still holds: 3 kept, 2 dropped, no more.
        expect(g.gateway.ledger.buffered).toBe(3);
        expect(await metricValue(g, 'gateway_usage_records_dropped_total')).toBe(2);
      } finally {
        await postgres.start();
      }
      await vi.waitFor(async () => expect(await store.sql(db, 'select * from usage_records')).toHaveLength(3), { timeout: 15_000, interval: 100 });
      const rows = await store.sql<{ prompt_tokens: number }>(db, 'select prompt_tokens from usage_records order by id');
      // The newest three were kept (the oldest dropped).
      expect(rows.map((r) => r.prompt_tokens)).toEqual([2, 3, 4].map((i) => reported(`overflow ${i}`).prompt));
      expect(await metricValue(g, 'gateway_usage_records_dropped_total')).toBe(2);
      await stopGw(g);
    });
  });
});

describe('usage ledger off', () => {
  it('answers Query.usage with SERVICE_UNAVAILABLE, not a 500', async () => {
    const g = await startGw({ USAGE_DATABASE_URL: 'off' });
    const res = await usage(g, {});
    expect(res.status).not.toBe(500);
    expect(res.data?.usage ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.errors?.[0]?.message).toMatch(/USAGE_DATABASE_URL=off/);
    // Calls still work.
    await promptCall(g, 'no ledger');
    await stopGw(g);
  });
});
