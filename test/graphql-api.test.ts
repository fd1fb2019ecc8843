import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionDocument, MeDocument, ModelsDocument, ProvidersDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';

let groq: FakeProvider;
let anthropic: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gk', models: ['llama-3.3-70b-versatile', 'gemma'] });
  anthropic = await startFakeProvider({ flavor: 'anthropic', apiKey: 'ak', models: ['claude-sonnet'] });
  gw = await startTestGateway({
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'gk',
    ANTHROPIC_API_URL: anthropic.url,
    ANTHROPIC_API_KEY: 'ak',
    SERVER_READ_TIMEOUT: '1s',
    DISALLOWED_MODELS: 'groq/gemma',
    SERVER_MAX_REQUEST_BODY_SIZE: '65536',
  });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
  await anthropic.close();
});

const input = (model: string, extra: Record<string, unknown> = {}) => ({
  input: { model, messages: [{ role: 'USER' as const, content: 'hello graph' }], ...extra },
});

describe('Query.models', () => {
  it('lists allowed models of every configured provider', async () => {
    const res = await gql(gw.url, ModelsDocument, {});
    expect(res.errors).toBeUndefined();
    expect(res.data!.models.map((m) => m.id).sort()).toEqual(['anthropic/claude-sonnet', 'groq/llama-3.3-70b-versatile']);
    const claude = res.data!.models.find((m) => m.provider === 'anthropic')!;
    expect(claude).toMatchObject({ name: 'claude-sonnet', ownedBy: 'anthropic', created: Date.parse('2025-02-19T00:00:00Z') / 1000 });
  });

  it('lists one provider', async () => {
    const res = await gql(gw.url, ModelsDocument, { provider: 'groq' });
    expect(res.data!.models.map((m) => m.id)).toEqual(['groq/llama-3.3-70b-versatile']);
  });

  it('names an unknown provider with BAD_USER_INPUT-class code NOT_FOUND', async () => {
    const res = await gql(gw.url, ModelsDocument, { provider: 'nope' });
    expect(res.errors![0]!.message).toMatch(/Unknown provider 'nope'/);
    expect(res.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });
});

describe('Query.providers', () => {
  it('lists all 15 providers with whether each is configured', async () => {
    const res = await gql(gw.url, ProvidersDocument, {});
    expect(res.data!.providers).toHaveLength(15);
    expect(res.data!.providers.filter((p) => p.configured).map((p) => p.id).sort()).toEqual(['anthropic', 'groq']);
  });
});

describe('Query.me', () => {
  it('is null when authentication is off', async () => {
    const res = await gql(gw.url, MeDocument, {});
    expect(res.data).toEqual({ me: null });
  });
});

describe('Mutation.chatCompletion', () => {
  it('returns a completion with usage', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, input('groq/llama-3.3-70b-versatile', { temperature: 0.2, maxTokens: 50, stop: ['\n'], seed: 7 }));
    expect(res.errors).toBeUndefined();
    const c = res.data!.chatCompletion!;
    expect(c).toMatchObject({ provider: 'groq', model: 'llama-3.3-70b-versatile', id: 'chatcmpl-fake123', created: 1_700_000_000 });
    expect(c.choices[0]).toMatchObject({ index: 0, finishReason: 'stop', message: { role: 'ASSISTANT', content: 'You said: hello graph' } });
    expect(c.usage!.totalTokens).toBe(c.usage!.promptTokens + c.usage!.completionTokens);
    const sent = groq.requests.at(-1)!.json;
    expect(sent).toMatchObject({ model: 'llama-3.3-70b-versatile', temperature: 0.2, max_tokens: 50, stop: ['\n'], seed: 7 });
    expect(sent.messages).toEqual([{ role: 'user', content: 'hello graph' }]);
  });

  it('routes a bare model with provider', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, input('claude-sonnet', { provider: 'anthropic' }));
    expect(res.data!.chatCompletion!.provider).toBe('anthropic');
    expect(anthropic.requests.at(-1)!.headers['x-api-key']).toBe('ak');
  });

  it('sends tools and tool results, and returns tool calls', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, {
      input: {
        model: 'groq/llama-3.3-70b-versatile',
        messages: [
          { role: 'SYSTEM', content: 'be brief' },
          { role: 'USER', content: 'weather?' },
          { role: 'ASSISTANT', toolCalls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'TOOL', toolCallId: 'call_0', content: '{"temp": 21}' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }],
        toolChoice: 'get_weather',
      },
    });
    expect(res.errors).toBeUndefined();
    const message = res.data!.chatCompletion!.choices[0]!.message;
    expect(message.toolCalls![0]).toEqual({ id: 'call_fake1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' } });
    expect(res.data!.chatCompletion!.choices[0]!.finishReason).toBe('tool_calls');
    const sent = groq.requests.at(-1)!.json;
    expect(sent.tools[0].function.parameters).toEqual({ type: 'object', properties: { location: { type: 'string' } } });
    expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(sent.messages[2].tool_calls[0].id).toBe('call_0');
    expect(sent.messages[3]).toEqual({ role: 'tool', content: '{"temp": 21}', tool_call_id: 'call_0' });
  });
});

describe('errors carry extensions.code', () => {
  it.each([
    ['a model with no provider', 'llama', 'BAD_USER_INPUT', /provider\/model/],
    ['a disallowed model', 'groq/gemma', 'FORBIDDEN', /not allowed/],
    ['an unconfigured provider', 'openai/gpt-4o', 'BAD_USER_INPUT', /OPENAI_API_KEY/],
    ['an upstream 500', 'groq/fail-500', 'UPSTREAM_ERROR', /groq: fake failure 500/],
    ['an upstream 429', 'groq/fail-429', 'RATE_LIMITED', /groq: fake failure 429/],
    ['an unreachable upstream', 'groq/reset', 'UPSTREAM_ERROR', /groq: upstream unreachable/],
    ['an upstream timeout', 'groq/hang', 'UPSTREAM_TIMEOUT', /groq: no response within 1s/],
  ])('%s → %s', async (_name, model, code, message) => {
    const res = await gql(gw.url, ChatCompletionDocument, input(model));
    expect(res.data).toEqual({ chatCompletion: null }); // nullable: a failed call in a document of several leaves the others
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions!.code).toBe(code);
    expect(res.errors![0]!.message).toMatch(message);
    expect(res.errors![0]!.path).toEqual(['chatCompletion']);
  });

  it('UPSTREAM_ERROR names the provider and its status', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, input('groq/fail-503'));
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_ERROR', provider: 'groq', status: 503 });
  });

  it('never answers a bare "Unexpected error"', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, input('groq/malformed'));
    expect(res.errors![0]!.message).not.toMatch(/Unexpected error/);
    expect(res.errors![0]!.extensions!.code).toBe('UPSTREAM_ERROR');
  });

  it('rejects empty messages as BAD_USER_INPUT', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/x', messages: [] } });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a TOOL message without toolCallId as BAD_USER_INPUT', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/x', messages: [{ role: 'TOOL', content: 'x' }] } });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/toolCallId/);
  });

  it('rejects a wrongly typed variable with a message naming it', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, { input: { model: 'groq/x', messages: [{ role: 'KING', content: 'x' }] } } as any);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/KING/);
  });
});

describe('introspection, as clients send it', () => {
  const allOptions = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true };

  it.each([
    ['getIntrospectionQuery()', {}],
    ['getIntrospectionQuery() with every option', allOptions],
    ['getIntrospectionQuery() without descriptions', { descriptions: false }],
  ])('%s passes the document limits and yields the whole schema', async (_name, options) => {
    const res = await gql<IntrospectionQuery, never>(gw.url, getIntrospectionQuery(options));
    expect(res.errors).toBeUndefined();
    const schema = buildClientSchema(res.data!);
    expect(schema.getQueryType()!.getFields().models).toBeDefined();
    expect(schema.getMutationType()!.getFields().chatCompletion).toBeDefined();
    expect(schema.getSubscriptionType()!.getFields().chatCompletionStream).toBeDefined();
  });

  it('passes over GET too (GraphiQL and codegen may use it)', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(getIntrospectionQuery(allOptions))}`, { headers: { accept: 'application/json' } });
    const body = (await res.json()) as { data?: IntrospectionQuery; errors?: unknown };
    expect(res.status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.__schema.types.length).toBeGreaterThan(20);
  });

  it('refuses an ofType chain deeper than any client sends', async () => {
    const chain = 'ofType { '.repeat(40) + 'name' + ' }'.repeat(40);
    const res = await gql(gw.url, `{ __schema { types { fields { type { ${chain} } } } } }`);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/Introspection depth limit of 30 exceeded/);
    expect(res.data ?? null).toBeNull();
  });

  it('refuses lists nested in lists, the shape that multiplies the answer', async () => {
    const res = await gql(gw.url, '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/Maximum introspection depth exceeded/);
  });

  it('counts depth hidden in fragments', async () => {
    const chain = 'ofType { '.repeat(30) + 'name' + ' }'.repeat(30);
    const res = await gql(gw.url, `{ __schema { types { ...F } } } fragment F on __Type { fields { type { ...G } } } fragment G on __Type { ${chain} }`);
    expect(res.errors![0]!.message).toMatch(/Introspection depth limit of 30 exceeded, found 34/);
  });

  it('refuses nested lists hidden in fragments', async () => {
    const res = await gql(
      gw.url,
      '{ __schema { types { ...F } } } fragment F on __Type { fields { type { ...G } } } fragment G on __Type { fields { type { fields { name } } } }',
    );
    expect(res.errors![0]!.message).toMatch(/Maximum introspection depth exceeded/);
  });
});

describe('abusive documents', () => {
  it('rejects a document deeper than the limit', async () => {
    const nested = 'fields { type { '.repeat(8) + 'name' + ' } }'.repeat(8);
    const deep = `{ __schema { types { ${nested} } } }`;
    const res = await gql(gw.url, deep);
    expect(res.errors![0]!.message).toMatch(/depth/i);
    expect(res.data ?? null).toBeNull();
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: providers { id }`).join(' ');
    const res = await gql(gw.url, `{ ${aliases} }`);
    expect(res.errors![0]!.message).toMatch(/aliases/i);
  });

  it('rejects a document with too many tokens', async () => {
    const fields = Array.from({ length: 2500 }, () => 'id').join(' ');
    const res = await gql(gw.url, `{ providers { ${fields} } }`);
    expect(res.errors![0]!.message).toMatch(/token/i);
  });

  it('rejects a batch of more operations than the limit', async () => {
    const batch = Array.from({ length: 6 }, () => ({ query: '{ providers { id } }' }));
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(JSON.stringify(await res.json())).toMatch(/[Bb]atch/);
  });

  it('accepts a small batch', async () => {
    const batch = [{ query: '{ providers { id } }' }, { query: '{ providers { configured } }' }];
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveLength(2);
  });

  it('rejects a body over SERVER_MAX_REQUEST_BODY_SIZE with 413 in GraphQL shape', async () => {
    const res = await gql(gw.url, ChatCompletionDocument, input('groq/llama-3.3-70b-versatile', { stop: ['x'.repeat(70_000)] }));
    expect(res.status).toBe(413);
    expect(res.errors![0]!.extensions!.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects a syntax error with a message pointing at it', async () => {
    const res = await gql(gw.url, '{ providers { id }');
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/Syntax Error/);
  });
});

describe('refused variables', () => {
  const MUTATION = 'mutation C($input: ChatCompletionInput!) { chatCompletion(input: $input) { id } }';
  it.each([
    ['an unknown enum value', { input: { model: 'groq/llama', messages: [{ role: 'KING', content: 'hi' }] } }, 'Variable "$input" got invalid value "KING" at "input.messages[0].role"; Value "KING" does not exist in "ChatRole" enum.'],
    ['a wrong type', { input: { model: 'groq/llama', messages: [], temperature: 'hot' } }, 'Variable "$input" got invalid value "hot" at "input.temperature"; Float cannot represent non numeric value: "hot"'],
    ['a missing variable', {}, 'Variable "$input" of required type "ChatCompletionInput!" was not provided.'],
  ])('%s: 400 naming the variable and path, the same on the compiled fast path and on Yoga (SSE)', async (_what, variables, message) => {
    const ask = async (accept: string) => {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query: MUTATION, variables }) });
      const text = await res.text();
      const json = accept === 'text/event-stream' ? JSON.parse(/data: (.*)/.exec(text)![1]!) : JSON.parse(text);
      return { status: res.status, messages: json.errors.map((e: { message: string }) => e.message) };
    };
    const fast = await ask('application/graphql-response+json');
    expect(fast).toEqual({ status: 400, messages: [message] });
    expect(await ask('text/event-stream')).toEqual(fast);
  });
});
