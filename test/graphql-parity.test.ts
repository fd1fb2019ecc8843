/**
 * GraphQL says everything the REST shim says: each ChatCompletionInput field reaches the provider
 * under OpenAI's wire name and shape (read from what the fake upstream received), a GraphQL request
 * sends the same upstream body as its REST equivalent, bad combinations are BAD_USER_INPUT naming the
 * field, and usage details, refusals, logprobs and the system fingerprint come back on JSON answers
 * and on streams over SSE and WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, wsClient } from './helpers/graphql.js';

let fake: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeProvider({ apiKey: 'sk-test', models: ['gpt-4o'] });
  gw = await startTestGateway({ OPENAI_API_URL: fake.url, OPENAI_API_KEY: 'sk-test' });
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});

const MUTATION = `mutation Chat($input: ChatCompletionInput!) {
  chatCompletion(input: $input) {
    id systemFingerprint
    choices { finishReason logprobs message { content refusal } }
    usage { promptTokens completionTokens totalTokens cachedTokens reasoningTokens }
  }
}`;
const SUBSCRIPTION = `subscription Stream($input: ChatCompletionInput!) {
  chatCompletionStream(input: $input) {
    id systemFingerprint
    choices { finishReason logprobs delta { content refusal } }
    usage { promptTokens completionTokens totalTokens cachedTokens reasoningTokens }
  }
}`;

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const SCHEMA = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };

/** The last body the fake upstream received. */
const upstreamBody = () => fake.requests.at(-1)!.json;
/** JSON with object keys sorted at every level: equal texts mean equal bodies, whatever the key order. */
const sorted = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

async function sse(query: string, variables: unknown): Promise<any[]> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('event: next'))
    .map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)));
}

describe('every ChatCompletionInput field reaches the provider under its OpenAI wire name', () => {
  it('maps each field exactly', async () => {
    const input = {
      model: 'openai/gpt-4o',
      messages: [
        { role: 'SYSTEM', content: 'Be brief.' },
        {
          role: 'USER',
          name: 'ada',
          parts: [
            { text: 'What is in these?' },
            { imageUrl: { url: 'https://example.com/cat.png', detail: 'LOW' } },
            { imageUrl: { url: PNG } },
            { inputAudio: { data: 'UklGRg==', format: 'wav' } },
            { file: { fileId: 'file-abc' } },
            { file: { fileData: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          ],
        },
      ],
      temperature: 0.3,
      topP: 0.9,
      maxTokens: 100,
      maxCompletionTokens: 200,
      n: 2,
      stop: ['END'],
      seed: 7,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      logprobs: true,
      topLogprobs: 3,
      user: 'user-42',
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object' } } }],
      toolChoice: 'auto',
      parallelToolCalls: false,
      reasoningEffort: 'HIGH',
      responseFormat: { type: 'JSON_SCHEMA', jsonSchema: { name: 'answer', schema: SCHEMA, strict: true, description: 'An answer' } },
      metadata: { team: 'search' },
    };
    const res = await gql(gw.url, MUTATION, { input });
    expect(res.errors).toBeUndefined();
    expect(upstreamBody()).toEqual({
      model: 'gpt-4o',
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          name: 'ada',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: PNG } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'file', file: { file_id: 'file-abc' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          ],
        },
      ],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 100,
      max_completion_tokens: 200,
      n: 2,
      stop: ['END'],
      seed: 7,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      logprobs: true,
      top_logprobs: 3,
      user: 'user-42',
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      reasoning_effort: 'high',
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: SCHEMA, strict: true, description: 'An answer' } },
      metadata: { team: 'search' },
    });
  });

  it.each([
    ['NONE', 'none'],
    ['MINIMAL', 'minimal'],
    ['LOW', 'low'],
    ['MEDIUM', 'medium'],
    ['XHIGH', 'xhigh'],
  ])('reasoningEffort %s → reasoning_effort "%s"', async (effort, wire) => {
    await gql(gw.url, MUTATION, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'x' }], reasoningEffort: effort } });
    expect(upstreamBody().reasoning_effort).toBe(wire);
  });

  it.each([
    [{ type: 'TEXT' }, { type: 'text' }],
    [{ type: 'JSON_OBJECT' }, { type: 'json_object' }],
    [{ type: 'JSON_SCHEMA', jsonSchema: { name: 'n', schema: SCHEMA } }, { type: 'json_schema', json_schema: { name: 'n', schema: SCHEMA } }],
  ])('responseFormat %j → response_format %j', async (format, wire) => {
    await gql(gw.url, MUTATION, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'x' }], responseFormat: format } });
    expect(upstreamBody().response_format).toEqual(wire);
  });

  it('merges extraBody last, as given', async () => {
    await gql(gw.url, MUTATION, {
      input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'x' }], temperature: 0.1, extraBody: { temperature: 0.9, top_k: 40, safe_prompt: true } },
    });
    expect(upstreamBody()).toMatchObject({ temperature: 0.9, top_k: 40, safe_prompt: true });
  });

  it('keeps the model and stream mode the gateway chose, whatever extraBody says', async () => {
    await gql(gw.url, MUTATION, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'x' }], extraBody: { stream: true, model: 'other' } } });
    expect(upstreamBody()).toMatchObject({ model: 'gpt-4o', stream: false });
  });
});

describe('GraphQL sends exactly the body its REST equivalent sends', () => {
  const graphqlInput = {
    model: 'openai/gpt-4o',
    messages: [{ role: 'USER', parts: [{ text: 'Describe it as JSON.' }, { imageUrl: { url: PNG, detail: 'HIGH' } }] }],
    responseFormat: { type: 'JSON_SCHEMA', jsonSchema: { name: 'description', schema: SCHEMA, strict: true } },
    reasoningEffort: 'HIGH',
    maxCompletionTokens: 300,
  };
  const restBody = {
    model: 'openai/gpt-4o',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe it as JSON.' }, { type: 'image_url', image_url: { url: PNG, detail: 'high' } }] }],
    response_format: { type: 'json_schema', json_schema: { name: 'description', schema: SCHEMA, strict: true } },
    reasoning_effort: 'high',
    max_completion_tokens: 300,
  };

  it('a mutation and a REST JSON request', async () => {
    expect((await postJson(`${gw.url}/v1/chat/completions`, restBody)).status).toBe(200);
    const rest = upstreamBody();
    expect((await gql(gw.url, MUTATION, { input: graphqlInput })).errors).toBeUndefined();
    expect(sorted(upstreamBody())).toBe(sorted(rest));
  });

  it('a subscription and a REST stream', async () => {
    expect((await postJson(`${gw.url}/v1/chat/completions`, { ...restBody, stream: true })).status).toBe(200);
    const rest = upstreamBody();
    const events = await sse(SUBSCRIPTION, { input: graphqlInput });
    expect(events.at(-1).data.chatCompletionStream.usage).not.toBeNull();
    expect(sorted(upstreamBody())).toBe(sorted(rest));
    expect(rest.stream_options).toEqual({ include_usage: true });
  });
});

describe('bad combinations are BAD_USER_INPUT naming the field', () => {
  const ask = async (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const before = fake.requests.length;
    const res = await gql(gw.url, MUTATION, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', ...message }], ...extra } });
    expect(fake.requests.length).toBe(before); // nothing reached the provider
    expect((res.data as any)?.chatCompletion ?? null).toBeNull();
    return res.errors![0]!;
  };

  it.each([
    ['content and parts', { content: 'a', parts: [{ text: 'b' }] }, {}, /messages\[0\] has both content and parts/],
    ['two fields in one part', { parts: [{ text: 'a', imageUrl: { url: PNG } }] }, {}, /messages\[0\]\.parts\[0\] must set exactly one of text, imageUrl, inputAudio, file \(it sets text and imageUrl\)/],
    ['a part with no field', { parts: [{}] }, {}, /messages\[0\]\.parts\[0\] must set exactly one of text, imageUrl, inputAudio, file$/],
    ['an unknown enum value', { parts: [{ imageUrl: { url: PNG, detail: 'HUGE' } }] }, {}, /"HUGE" at "input\.messages\[0\]\.parts\[0\]\.imageUrl\.detail".*ImageDetail/],
    ['an image URL that is neither https nor data:', { parts: [{ imageUrl: { url: 'http://intranet/cat.png' } }] }, {}, /messages\[0\]\.parts\[0\]\.imageUrl\.url must be an https:\/\/ or data: URL/],
    ['an empty parts list', { parts: [] }, {}, /messages\[0\]\.parts must not be empty/],
    ['a file with neither id nor data', { parts: [{ file: { filename: 'a.pdf' } }] }, {}, /messages\[0\]\.parts\[0\]\.file needs fileId or fileData/],
    ['JSON_SCHEMA without jsonSchema', { content: 'x' }, { responseFormat: { type: 'JSON_SCHEMA' } }, /responseFormat\.jsonSchema is required with type JSON_SCHEMA/],
    ['jsonSchema with TEXT', { content: 'x' }, { responseFormat: { type: 'TEXT', jsonSchema: { name: 'n', schema: SCHEMA } } }, /responseFormat\.jsonSchema is only for type JSON_SCHEMA/],
    ['an unknown reasoning effort', { content: 'x' }, { reasoningEffort: 'EXTREME' }, /"EXTREME" at "input\.reasoningEffort".*ReasoningEffort/],
    ['extraBody that is not an object', { content: 'x' }, { extraBody: [1, 2] }, /extraBody must be a JSON object/],
    ['metadata that is not an object', { content: 'x' }, { metadata: 'tag' }, /metadata must be a JSON object/],
  ])('%s', async (_name, message, extra, wording) => {
    const error = await ask(message, extra);
    expect(error.extensions!.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(wording);
  });

  it('the same refusal over SSE (Yoga words the variables)', async () => {
    const events = await sse(SUBSCRIPTION, { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', parts: [{ text: 'a', imageUrl: { url: PNG } }] }] } });
    expect(events[0].errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(events[0].errors[0].message).toMatch(/ContentPartInput/);
  });
});

describe('what comes back: usage details, refusals, logprobs, system fingerprint', () => {
  const chatInput = (extra: Record<string, unknown> = {}) => ({
    input: { model: 'openai/gpt-4o', messages: [{ role: 'USER', content: 'hello there' }], logprobs: true, topLogprobs: 2, reasoningEffort: 'LOW', ...extra },
  });

  it('on a JSON answer', async () => {
    const res = await gql<any, any>(gw.url, MUTATION, chatInput());
    const completion = res.data.chatCompletion;
    const sent = upstreamBody();
    const prompt = JSON.stringify(sent.messages).length;
    expect(completion.systemFingerprint).toBe('fp_fake');
    expect(completion.usage).toEqual({
      promptTokens: prompt,
      completionTokens: 'You said: hello there'.length,
      totalTokens: prompt + 'You said: hello there'.length,
      cachedTokens: Math.floor(prompt / 2),
      reasoningTokens: Math.floor('You said: hello there'.length / 3),
    });
    const logprobs = completion.choices[0].logprobs;
    expect(logprobs.content.map((t: any) => t.token).join('')).toBe('You said: hello there');
    expect(logprobs.content[0].top_logprobs).toHaveLength(2);
    expect(completion.choices[0].message.refusal).toBeNull();
  });

  it('a refusal', async () => {
    const res = await gql<any, any>(gw.url, MUTATION, chatInput({ model: 'openai/refuse' }));
    expect(res.data.chatCompletion.choices[0].message).toEqual({ content: null, refusal: "I'm sorry, I can't help with that." });
  });

  it("reports the provider's own zero reasoning tokens as 0", async () => {
    const res = await gql<any, any>(gw.url, `mutation { chatCompletion(input: {model: "openai/gpt-4o", messages: [{role: USER, content: "x"}]}) { usage { reasoningTokens } } }`);
    expect(res.data.chatCompletion.usage.reasoningTokens).toBe(0); // the fake reports 0 without reasoning_effort; null is for 'not reported'
  });

  const checkStream = (chunks: any[]) => {
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.cachedTokens).toBeGreaterThan(0);
    expect(last.usage.reasoningTokens).toBe(Math.floor('You said: hello there'.length / 3));
    expect(chunks.every((c) => c.systemFingerprint === 'fp_fake')).toBe(true);
    const content = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(content.map((c) => c.choices[0].logprobs.content[0].token).join('')).toBe('You said: hello there');
  };

  it('on a stream over SSE', async () => {
    const events = await sse(SUBSCRIPTION, chatInput());
    checkStream(events.map((e) => e.data.chatCompletionStream));
  });

  it('on a stream over WebSocket', async () => {
    const client = wsClient(gw.url);
    const chunks: any[] = [];
    await new Promise<void>((resolve, reject) =>
      client.subscribe({ query: SUBSCRIPTION, variables: chatInput() }, { next: (r: any) => chunks.push(r.data.chatCompletionStream), error: reject, complete: resolve }),
    );
    await client.dispose();
    checkStream(chunks);
  });

  it('a streamed refusal', async () => {
    const events = await sse(SUBSCRIPTION, chatInput({ model: 'openai/refuse', logprobs: false }));
    const refusal = events.map((e) => e.data.chatCompletionStream.choices[0]?.delta.refusal ?? '').join('');
    expect(refusal).toBe("I'm sorry, I can't help with that.");
  });
});
