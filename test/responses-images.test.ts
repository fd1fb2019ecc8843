/**
 * The Responses and images doors, with the official openai SDK: /v1/responses served natively by a
 * provider that has it (the fake speaks OpenAI's Responses wire format) and translated to chat
 * completions for one that hasn't — text, function tools and their outputs, JSON-schema text format,
 * reasoning effort, the `response.*` stream — stateful features refused; /v1/images/generations and
 * Mutation.imageGeneration for the providers that serve images.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql } from './helpers/graphql.js';

let openai: FakeProvider; // serves the Responses API and images itself
let groq: FakeProvider; // chat only (configured as deepseek): Responses translated
let zai: FakeProvider;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  openai = await startFakeProvider({ apiKey: 'sk-o', models: ['gpt-4o'] });
  groq = await startFakeProvider({ basePath: '', apiKey: 'gk', responsesPath: false, images: false });
  zai = await startFakeProvider({ basePath: '/api/paas/v4', apiKey: 'zk', images: 'zai' });
  gw = await startTestGateway({
    OPENAI_API_URL: openai.url,
    OPENAI_API_KEY: 'sk-o',
    DEEPSEEK_API_URL: groq.url,
    DEEPSEEK_API_KEY: 'gk',
    ZAI_API_URL: zai.url,
    ZAI_API_KEY: 'zk',
    MODEL_FALLBACKS: JSON.stringify({ resilient: ['openai/fail-503', 'deepseek/llama'] }),
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
  await Promise.all([openai, groq, zai].map((f) => f.close()));
});

/** deepseek, served by the `groq` fake at base path '': a provider without the Responses API. */
const translatedModel = 'deepseek/llama';
const chatBody = () => groq.requests.at(-1)!.json;

describe('/v1/responses, translated to chat completions', () => {
  it('a string input with instructions', async () => {
    const response = await client.responses.create({ model: translatedModel, input: 'hello responses', instructions: 'Be brief.', max_output_tokens: 50 });
    expect(response.output_text).toBe('You said: hello responses');
    expect(response.status).toBe('completed');
    expect(response.model).toBe(translatedModel);
    expect(response.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: 'You said: hello responses'.length });
    expect(chatBody()).toMatchObject({
      model: 'llama',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello responses' }],
      max_completion_tokens: 50,
      stream: false,
    });
  });

  it('function tools, a function_call and its output, JSON-schema text format and reasoning effort', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const first = await client.responses.create({ model: translatedModel, input: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' });
    const call = first.output.find((o) => o.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'weather', arguments: '{"location":"Paris","unit":"celsius"}', call_id: 'call_fake1' });
    expect(chatBody().tools).toEqual([{ type: 'function', function: { name: 'weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false } }]);
    await client.responses.create({
      model: translatedModel,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: 'call_fake1', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_fake1', output: '{"temp":21}' },
      ],
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { t: { type: 'number' } } }, strict: true } },
      reasoning: { effort: 'high' },
    });
    expect(chatBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_fake1', content: '{"temp":21}' },
    ]);
    expect(chatBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { t: { type: 'number' } } }, strict: true } });
    expect(chatBody().reasoning_effort).toBe('high');
  });

  it('streams the response.* events the SDK assembles', async () => {
    const stream = client.responses.stream({ model: translatedModel, input: 'stream this please' });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(text).toBe('You said: stream this please');
    expect(final.output_text).toBe('You said: stream this please');
    expect(final.usage?.output_tokens).toBe('You said: stream this please'.length);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toEqual(expect.arrayContaining(['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.output_item.done']));
    expect(chatBody().stream_options).toEqual({ include_usage: true });
  });

  it('streams function call arguments in pieces', async () => {
    const stream = client.responses.stream({ model: translatedModel, input: 'call it', tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false }] });
    const deltas: string[] = [];
    for await (const event of stream) if (event.type === 'response.function_call_arguments.delta') deltas.push(event.delta);
    const final = await stream.finalResponse();
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.output[0]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: deltas.join('') });
  });
});

describe('/v1/responses, native', () => {
  it('relays the provider\'s own response, with store: false and the provider\'s model name', async () => {
    const response = await client.responses.create({ model: 'openai/gpt-4o', input: 'native please' });
    expect(response.id).toBe('resp_fake');
    expect(response.output_text).toBe('You said: native please');
    expect(openai.requests.at(-1)!.path).toBe('/v1/responses');
    expect(openai.requests.at(-1)!.json).toMatchObject({ model: 'gpt-4o', input: 'native please', store: false, stream: false });
  });

  it('relays the provider\'s own stream event by event', async () => {
    const stream = client.responses.stream({ model: 'openai/gpt-4o', input: 'native stream' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('You said: native stream');
  });

  it('a fallback alias moves from a failed native target to a translated one', async () => {
    const res = await postJson(`${gw.url}/v1/responses`, { model: 'resilient', input: 'fall back' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('deepseek');
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(res.json.output[0].content[0].text).toBe('You said: fall back');
  });
});

describe('/v1/responses refuses what it cannot do, with a 400 saying what', () => {
  it.each([
    [{ previous_response_id: 'resp_1', input: 'x' }, /'previous_response_id' is not supported/],
    [{ store: true, input: 'x' }, /'store: true' is not supported/],
    [{ input: 'x', tools: [{ type: 'web_search' }] }, /built-in tools \(web_search\) are not supported/],
    [{ input: 'x', conversation: 'conv_1' }, /'conversation' is not supported/],
    [{ input: 42 }, /'input' must be a string or an array/],
    [{ input: [{ type: 'computer_call_output' }] }, /input\[0\]\.type "computer_call_output" is not supported/],
  ])('%j', async (body, wording) => {
    const res = await postJson(`${gw.url}/v1/responses`, { model: translatedModel, ...body });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(wording);
  });
});

describe('images', () => {
  it('REST: OpenAI\'s images API, b64_json and usage from gpt-image models', async () => {
    const result = await client.images.generate({ model: 'openai/gpt-image-1', prompt: 'a red fox', n: 2, size: '1024x1024' });
    expect(result.data!.map((d) => Buffer.from(d.b64_json!, 'base64').toString())).toEqual(['png:a red fox:0', 'png:a red fox:1']);
    expect(openai.requests.at(-1)!.json).toEqual({ model: 'gpt-image-1', prompt: 'a red fox', n: 2, size: '1024x1024' });
  });

  it('GraphQL: imageGeneration', async () => {
    const res = await gql<any, never>(gw.url, 'mutation { imageGeneration(input: {model: "openai/dall-e-3", prompt: "a lighthouse", quality: "hd"}) { created images { b64Json url revisedPrompt } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.imageGeneration).toEqual({ created: 1_700_000_000, images: [{ b64Json: null, url: 'https://images.example/0.png', revisedPrompt: 'A picture of a lighthouse' }] });
  });

  it('Z.ai answers URLs: n and response_format are left out for it, and b64_json asked of it is a clear 400', async () => {
    const res = await postJson(`${gw.url}/v1/images/generations`, { model: 'zai/cogview-4', prompt: 'a cat', n: 1, size: '1024x1024' });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data[0].url).toBe('https://images.example/a%20cat.png');
    expect(zai.requests.at(-1)!.json).toEqual({ model: 'cogview-4', prompt: 'a cat', size: '1024x1024' });
    const refused = await postJson(`${gw.url}/v1/images/generations`, { model: 'zai/cogview-4', prompt: 'a cat', response_format: 'b64_json' });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/answers image URLs only/);
  });

  it('a provider without images → 400 naming those that have them, on both edges', async () => {
    const res = await postJson(`${gw.url}/v1/images/generations`, { model: 'deepseek/x', prompt: 'a cat' });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("Provider 'deepseek' does not serve image generation. Providers that do: openai, zai");
    const graph = await gql<any, never>(gw.url, 'mutation { imageGeneration(input: {model: "deepseek/x", prompt: "a cat"}) { created } }');
    expect(graph.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    [{ model: 'openai/gpt-image-1' }, /'prompt' must be a non-empty string/],
    [{ model: 'openai/gpt-image-1', prompt: 'x', n: 0 }, /'n' must be an integer from 1 to 10/],
    [{ prompt: 'x' }, /'model' must be a non-empty string/],
  ])('bad input %j → 400', async (body, wording) => {
    const res = await postJson(`${gw.url}/v1/images/generations`, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(wording);
  });

  it('counts in metrics as image_generation, with tokens from usage', async () => {
    await client.images.generate({ model: 'openai/gpt-image-1', prompt: 'metered', n: 1 });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gen_ai_client_operation_duration_seconds_count\{gen_ai_operation_name="image_generation",gen_ai_provider_name="openai",gen_ai_request_model="gpt-image-1",error_type=""\} 2/);
    expect(metrics).toMatch(/gen_ai_client_token_usage_sum\{gen_ai_operation_name="image_generation",gen_ai_provider_name="openai",gen_ai_request_model="gpt-image-1",gen_ai_token_type="output"\} 3168/);
  });
});
