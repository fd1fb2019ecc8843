/**
 * The Responses door's translation on its own, no server: OpenAI Responses requests checked and
 * turned into chat completions requests, chat completions turned into Responses `response` objects,
 * and a chat stream turned into the exact `response.*` event sequence.
 * Ids are random: their prefixes are checked, then the ids seen are used so everything else is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BadRequestError } from '../src/errors.js';
import type { ChatCompletion, ChatCompletionChunk } from '../src/providers/types.js';
import { ResponsesStreamTranslator, toResponse } from '../src/responses/from-chat.js';
import { toChatRequest, validateResponsesRequest, type ResponsesRequest } from '../src/responses/to-chat.js';

const base = { model: 'groq/llama', input: 'hi' };

/** The BadRequestError a call throws (fails the test when it throws nothing, or something else). */
function badRequest(fn: () => unknown): BadRequestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return error as BadRequestError;
  }
  throw new Error('expected a BadRequestError, nothing was thrown');
}

const ID = { resp: /^resp_[0-9a-f]{32}$/, msg: /^msg_[0-9a-f]{32}$/, fc: /^fc_[0-9a-f]{32}$/, call: /^call_[0-9a-f]{32}$/ };

describe('validateResponsesRequest', () => {
  it('passes a good request through as it is (same object, unknown fields kept)', () => {
    const body = {
      ...base,
      instructions: 'Be brief.',
      stream: true,
      store: false,
      background: false,
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
      tool_choice: 'auto',
      max_output_tokens: 100,
      temperature: 0.2,
      metadata: { k: 'v' },
      service_tier: 'auto',
    };
    expect(validateResponsesRequest(body)).toBe(body);
    expect(validateResponsesRequest(body)).toEqual({ ...body });
  });

  it('store: false and an absent store are accepted; stateful fields set to null are accepted', () => {
    const withFalse = { ...base, store: false };
    const without = { ...base };
    const nulls = { ...base, previous_response_id: null, conversation: null, prompt: null };
    expect(validateResponsesRequest(withFalse)).toBe(withFalse);
    expect(validateResponsesRequest(without)).toBe(without);
    expect(validateResponsesRequest(nulls)).toBe(nulls);
  });

  it('an input array of items and stream: false are accepted', () => {
    const body = { ...base, input: [{ role: 'user', content: 'hi' }], stream: false };
    expect(validateResponsesRequest(body)).toBe(body);
  });

  it.each([
    ['a non-object body', [1, 2], /^Request body must be a JSON object/],
    ['null', null, /^Request body must be a JSON object/],
    ['no model', { input: 'hi' }, /^'model' must be a non-empty string/],
    ['a blank model', { ...base, model: '  ' }, /^'model' must be a non-empty string/],
    ['previous_response_id', { ...base, previous_response_id: 'resp_1' }, /^'previous_response_id' is not supported: this gateway serves the Responses API statelessly/],
    ['conversation', { ...base, conversation: 'conv_1' }, /^'conversation' is not supported: this gateway serves the Responses API statelessly/],
    ['prompt', { ...base, prompt: { id: 'pmpt_1' } }, /^'prompt' is not supported: this gateway serves the Responses API statelessly/],
    ['store: true', { ...base, store: true }, /^'store: true' is not supported: this gateway keeps no responses/],
    ['background: true', { ...base, background: true }, /^'background: true' is not supported/],
    ['no input', { model: 'groq/llama' }, /^'input' must be a string or an array of input items$/],
    ['input a number', { ...base, input: 5 }, /^'input' must be a string or an array of input items$/],
    ['input an object', { ...base, input: { role: 'user', content: 'hi' } }, /^'input' must be a string or an array of input items$/],
    ['stream "yes"', { ...base, stream: 'yes' }, /^'stream' must be true or false$/],
    ['stream 1', { ...base, stream: 1 }, /^'stream' must be true or false$/],
    ['tools an object', { ...base, tools: { type: 'function', name: 't' } }, /^'tools' must be an array$/],
    ['web_search', { ...base, tools: [{ type: 'web_search' }] }, /^tools\[0\]: built-in tools \(web_search\) are not supported/],
    ['file_search', { ...base, tools: [{ type: 'function', name: 'ok' }, { type: 'file_search', vector_store_ids: ['vs_1'] }] }, /^tools\[1\]: built-in tools \(file_search\) are not supported/],
    ['code_interpreter', { ...base, tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, /^tools\[0\]: built-in tools \(code_interpreter\) are not supported/],
    ['a tool that is not an object', { ...base, tools: ['get_weather'] }, /^tools\[0\]: built-in tools \(string\) are not supported/],
    ['a tool without name', { ...base, tools: [{ type: 'function', name: 'ok' }, { type: 'function', parameters: {} }] }, /^tools\[1\]\.name must be a string$/],
  ])('%s → 400 saying what is wrong', (_name, body, wording) => {
    const error = badRequest(() => validateResponsesRequest(body));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(wording);
  });

  it('the refusals name the alternative', () => {
    expect(badRequest(() => validateResponsesRequest({ ...base, previous_response_id: 'resp_1' })).message).toBe(
      "'previous_response_id' is not supported: this gateway serves the Responses API statelessly; send the whole conversation as input",
    );
    expect(badRequest(() => validateResponsesRequest({ ...base, store: true })).message).toBe(
      "'store: true' is not supported: this gateway keeps no responses; send store: false (or leave it out)",
    );
    expect(badRequest(() => validateResponsesRequest({ ...base, tools: [{ type: 'web_search_preview' }] })).message).toBe(
      'tools[0]: built-in tools (web_search_preview) are not supported; only {"type": "function", "name", "parameters"}',
    );
  });
});

describe('toChatRequest', () => {
  const convert = (extra: Record<string, unknown>) => toChatRequest({ ...base, ...extra } as ResponsesRequest);

  it('string input with instructions → a system message and a user message, nothing else', () => {
    expect(convert({ instructions: 'Be brief.', input: 'Hello?' })).toEqual({
      model: 'groq/llama',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello?' },
      ],
    });
  });

  it('no instructions, or empty instructions, add no system message', () => {
    expect(convert({})).toEqual({ model: 'groq/llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(convert({ instructions: '' })).toEqual({ model: 'groq/llama', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('message items with string content keep their roles (type "message" optional)', () => {
    expect(
      convert({
        input: [
          { role: 'developer', content: 'Answer in French.' },
          { type: 'message', role: 'system', content: 'Be kind.' },
          { type: 'message', role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Salut' },
        ],
      }).messages,
    ).toEqual([
      { role: 'developer', content: 'Answer in French.' },
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Salut' },
    ]);
  });

  it('user input_text parts only → one string, joined as they are', () => {
    expect(
      convert({ input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one ' }, { type: 'input_text', text: 'two' }] }] }).messages,
    ).toEqual([{ role: 'user', content: 'one two' }]);
  });

  it('assistant output_text (and refusal) parts → their text joined', () => {
    expect(
      convert({
        input: [
          { role: 'user', content: 'hi' },
          {
            type: 'message',
            role: 'assistant',
            id: 'msg_old',
            status: 'completed',
            content: [
              { type: 'output_text', text: 'Hello, ', annotations: [] },
              { type: 'output_text', text: 'there.', annotations: [] },
              { type: 'refusal', refusal: ' No.' },
            ],
          },
        ],
      }).messages,
    ).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello, there. No.' },
    ]);
  });

  it('mixed user parts → a chat parts array: text, image_url (url and detail), file', () => {
    expect(
      convert({
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is in these?' },
              { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'high' },
              { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
              { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
              { type: 'input_file', file_id: 'file-123' },
            ],
          },
        ],
      }).messages,
    ).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          { type: 'file', file: { file_id: 'file-123' } },
        ],
      },
    ]);
  });

  it('an input_image by file_id (no image_url) → 400 naming the part', () => {
    expect(badRequest(() => convert({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] })).message).toBe(
      'input[0].content[0]: input_image needs image_url (file ids need a provider that serves the Responses API)',
    );
  });

  it('consecutive function_call items → one assistant message with tool_calls; object arguments → JSON text', () => {
    expect(
      convert({
        input: [
          { role: 'user', content: 'weather and time?' },
          { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
          { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: { tz: 'CET', n: [1, 2] } },
          { type: 'function_call', call_id: 'call_3', name: 'noop' },
          { type: 'function_call_output', call_id: 'call_1', output: '18°C, sunny' },
          { type: 'function_call_output', call_id: 'call_2', output: { time: '12:00' } },
          { type: 'function_call_output', call_id: 'call_3', output: '' },
        ],
      }).messages,
    ).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET","n":[1,2]}' } },
          { id: 'call_3', type: 'function', function: { name: 'noop', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: '{"time":"12:00"}' },
      { role: 'tool', tool_call_id: 'call_3', content: '' },
    ]);
  });

  it('function calls separated by a tool output are two assistant messages; a call after assistant text is its own message', () => {
    expect(
      convert({
        input: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: 'Calling.' },
          { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'a', output: 'ok' },
          { type: 'function_call', call_id: 'b', name: 'g', arguments: '{}' },
        ],
      }).messages,
    ).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'Calling.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'a', content: 'ok' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }] },
    ]);
  });

  it('reasoning items are dropped', () => {
    expect(
      convert({
        input: [
          { role: 'user', content: 'hi' },
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'opaque' },
          { role: 'assistant', content: 'hello' },
        ],
      }).messages,
    ).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
  });

  it('unknown item types, unknown part types and malformed items → 400 naming the index', () => {
    expect(badRequest(() => convert({ input: [{ role: 'user', content: 'a' }, { type: 'item_reference', id: 'msg_1' }] })).message).toBe(
      'input[1].type "item_reference" is not supported (message, function_call, function_call_output)',
    );
    expect(badRequest(() => convert({ input: [{ role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_audio', input_audio: {} }] }] })).message).toBe(
      'input[0].content[1].type "input_audio" is not supported',
    );
    expect(badRequest(() => convert({ input: ['hi'] })).message).toBe('input[0] must be an input item object');
    expect(badRequest(() => convert({ input: [{ role: 'tool', content: 'x' }] })).message).toBe('input[0].role must be user, system, developer or assistant');
    expect(badRequest(() => convert({ input: [{ role: 'user', content: 3 }] })).message).toBe('input[0].content must be a string or an array of content parts');
    expect(badRequest(() => convert({ input: [{ role: 'user', content: 'a' }, { type: 'function_call', name: 'f' }] })).message).toBe(
      'input[1]: a function_call needs call_id and name',
    );
    expect(badRequest(() => convert({ input: [{ type: 'function_call_output', output: 'x' }] })).message).toBe('input[0]: a function_call_output needs call_id');
  });

  it('tools → chat functions: description when given, parameters defaulted, strict kept', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    expect(
      convert({
        tools: [
          { type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: schema, strict: true },
          { type: 'function', name: 'noop' },
          { type: 'function', name: 'loose', parameters: { type: 'object' }, strict: false },
        ],
      }).tools,
    ).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: schema, strict: true } },
      { type: 'function', function: { name: 'noop', parameters: { type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'loose', parameters: { type: 'object' }, strict: false } },
    ]);
    expect('tools' in convert({ tools: [] })).toBe(false);
  });

  it.each([
    ['auto', 'auto'],
    ['none', 'none'],
    ['required', 'required'],
    [{ type: 'function', name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ])('tool_choice %j → %j', (choice, expected) => {
    expect(convert({ tools: [{ type: 'function', name: 'get_weather' }], tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it.each([['any'], [{ type: 'function' }], [{ type: 'web_search' }], [3]])('a bad tool_choice %j → 400', (choice) => {
    expect(badRequest(() => convert({ tool_choice: choice })).message).toBe("'tool_choice' must be auto, none, required or {\"type\": \"function\", \"name\": …}");
  });

  it('max_output_tokens → max_completion_tokens; temperature, top_p, parallel_tool_calls, user, top_logprobs copied; reasoning.effort → reasoning_effort', () => {
    expect(
      convert({
        max_output_tokens: 256,
        temperature: 0.3,
        top_p: 0.8,
        parallel_tool_calls: false,
        user: 'user-42',
        top_logprobs: 2,
        reasoning: { effort: 'high', summary: 'auto' },
        metadata: { k: 'v' },
        store: false,
        stream: true,
      }),
    ).toEqual({
      model: 'groq/llama',
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 256,
      temperature: 0.3,
      top_p: 0.8,
      parallel_tool_calls: false,
      user: 'user-42',
      top_logprobs: 2,
      reasoning_effort: 'high',
    });
  });

  it('temperature 0 is kept; reasoning without effort adds nothing', () => {
    expect(convert({ temperature: 0, reasoning: { summary: 'auto' } })).toEqual({ model: 'groq/llama', messages: [{ role: 'user', content: 'hi' }], temperature: 0 });
  });

  it('text.format json_schema → response_format json_schema (name, schema, strict, description)', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    expect(convert({ text: { format: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'The answer' } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema, strict: true, description: 'The answer' },
    });
    expect(convert({ text: { format: { type: 'json_schema', name: 'answer', schema } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema },
    });
  });

  it('text.format json_object → response_format json_object; text format "text" adds nothing', () => {
    expect(convert({ text: { format: { type: 'json_object' } } }).response_format).toEqual({ type: 'json_object' });
    expect('response_format' in convert({ text: { format: { type: 'text' } } })).toBe(false);
  });
});

const completion = (message: Record<string, unknown>, finish: string | null, usage?: Record<string, unknown>): ChatCompletion =>
  ({
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'llama',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    ...(usage && { usage }),
  }) as ChatCompletion;

/** The settings a response echoes for a request with none of them set. */
const echoDefaults = {
  instructions: null,
  max_output_tokens: null,
  parallel_tool_calls: true,
  temperature: null,
  top_p: null,
  tool_choice: 'auto',
  tools: [],
  text: { format: { type: 'text' } },
  reasoning: null,
  metadata: {},
  store: false,
  previous_response_id: null,
  user: null,
};

const zeroUsage = { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };

describe('toResponse', () => {
  const request = base as ResponsesRequest;

  it('a text answer → one completed message item with output_text, usage with cached and reasoning tokens', () => {
    const response = toResponse(
      completion({ content: 'Hello!' }, 'stop', {
        prompt_tokens: 100,
        completion_tokens: 7,
        total_tokens: 107,
        prompt_tokens_details: { cached_tokens: 40 },
        completion_tokens_details: { reasoning_tokens: 3 },
      }),
      request,
    ) as any;
    expect(response.id).toMatch(ID.resp);
    expect(response.output[0].id).toMatch(ID.msg);
    expect(response).toEqual({
      id: response.id,
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      incomplete_details: null,
      error: null,
      model: 'groq/llama',
      output: [
        { type: 'message', id: response.output[0].id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello!', annotations: [], logprobs: [] }] },
      ],
      usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 40 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 107 },
      ...echoDefaults,
    });
  });

  it('usage without details, and no usage at all, count zeros', () => {
    expect(toResponse(completion({ content: 'x' }, 'stop', { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }), request).usage).toEqual({
      input_tokens: 12,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
    expect(toResponse(completion({ content: 'x' }, 'stop'), request).usage).toEqual(zeroUsage);
  });

  it('a refusal → a message item with a refusal part', () => {
    const response = toResponse(completion({ content: null, refusal: "I can't help with that." }, 'stop'), request) as any;
    expect(response.output).toEqual([
      { type: 'message', id: expect.stringMatching(ID.msg), status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: "I can't help with that." }] },
    ]);
    expect(response.status).toBe('completed');
  });

  it('tool calls → function_call items (call_id, name, arguments, status completed), after the text', () => {
    const response = toResponse(
      completion(
        {
          content: 'Calling tools.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      request,
    ) as any;
    const [message, first, second] = response.output;
    expect(message.id).toMatch(ID.msg);
    expect(first.id).toMatch(ID.fc);
    expect(second.id).toMatch(ID.fc);
    expect(first.id).not.toBe(second.id);
    expect(response.output).toEqual([
      { type: 'message', id: message.id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Calling tools.', annotations: [], logprobs: [] }] },
      { type: 'function_call', id: first.id, call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', id: second.id, call_id: 'call_2', name: 'get_time', arguments: '{}', status: 'completed' },
    ]);
    expect(response.status).toBe('completed');
  });

  it('tool calls with no text → function_call items only', () => {
    const response = toResponse(completion({ content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'run', arguments: '{"n":1}' } }] }, 'tool_calls'), request) as any;
    expect(response.output).toEqual([{ type: 'function_call', id: expect.stringMatching(ID.fc), call_id: 'call_9', name: 'run', arguments: '{"n":1}', status: 'completed' }]);
  });

  it('finish_reason length → status incomplete, incomplete_details.reason max_output_tokens', () => {
    const response = toResponse(completion({ content: 'Once upon a' }, 'length', { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }), request) as any;
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output).toEqual([
      { type: 'message', id: expect.stringMatching(ID.msg), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a', annotations: [], logprobs: [] }] },
    ]);
  });

  it('an empty answer has no output items', () => {
    expect(toResponse(completion({ content: '' }, 'stop'), request).output).toEqual([]);
  });

  it("the request's settings are echoed; store is always false, model is the one asked for", () => {
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }];
    const settings = {
      model: 'smart-alias',
      input: 'hi',
      instructions: 'Be brief.',
      max_output_tokens: 64,
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 0.9,
      tool_choice: 'required',
      tools,
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'low' },
      metadata: { k: 'v' },
      store: false,
      user: 'u1',
    };
    const response = toResponse(completion({ content: 'x' }, 'stop'), settings as ResponsesRequest) as any;
    expect(response).toMatchObject({
      model: 'smart-alias',
      instructions: 'Be brief.',
      max_output_tokens: 64,
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 0.9,
      tool_choice: 'required',
      tools,
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'low' },
      metadata: { k: 'v' },
      store: false,
      previous_response_id: null,
      user: 'u1',
    });
    expect(toResponse(completion({ content: 'x' }, 'stop'), { ...base, tools } as ResponsesRequest)).toMatchObject({ tools, tool_choice: 'auto', store: false, instructions: null });
  });
});

describe('ResponsesStreamTranslator', () => {
  const NOW = 1_750_000_000;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW * 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const chunk = (choices: ChatCompletionChunk['choices'], usage?: Record<string, unknown>): ChatCompletionChunk =>
    ({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'llama', choices, ...(usage && { usage }) }) as ChatCompletionChunk;
  const delta = (d: Record<string, unknown>, finish: string | null = null) => chunk([{ index: 0, delta: d, finish_reason: finish }]);
  /** Each batch as the wire sees it: serialised the moment it is handed out (as the door does). */
  const wire = (events: Record<string, any>[]): any[] => JSON.parse(JSON.stringify(events));
  const run = (chunks: ChatCompletionChunk[], request: Record<string, unknown> = base) => {
    const t = new ResponsesStreamTranslator(request as ResponsesRequest);
    return [...wire(t.start()), ...chunks.flatMap((c) => wire(t.push(c))), ...wire(t.end())];
  };
  const response = (id: string, status: string, output: unknown[], usage: unknown, extra: Record<string, unknown> = {}) => ({
    id,
    object: 'response',
    created_at: NOW,
    status,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    error: null,
    model: 'groq/llama',
    output,
    usage,
    ...echoDefaults,
    ...extra,
  });
  const expectSequence = (events: any[]) => expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));

  it('start() → response.created then response.in_progress (status in_progress, no output, usage null)', () => {
    const t = new ResponsesStreamTranslator({ ...base, instructions: 'Be brief.' } as ResponsesRequest);
    const events: any[] = t.start();
    const id = events[0].response.id;
    expect(id).toMatch(ID.resp);
    const inProgress = response(id, 'in_progress', [], null, { instructions: 'Be brief.' });
    expect(events).toEqual([
      { type: 'response.created', sequence_number: 0, response: inProgress },
      { type: 'response.in_progress', sequence_number: 1, response: inProgress },
    ]);
  });

  it('text in pieces, then finish and a usage chunk → the exact event sequence, numbered from 0', () => {
    const events = run([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'Hello' }),
      delta({ content: ', ' }),
      delta({ content: 'world.' }),
      delta({}, 'stop'),
      chunk([], { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 4 } }),
    ]);
    const id = events[0].response.id;
    const msg = events[2].item.id;
    expect(id).toMatch(ID.resp);
    expect(msg).toMatch(ID.msg);
    const at = { item_id: msg, output_index: 0, content_index: 0 };
    const finalText = { type: 'output_text', text: 'Hello, world.', annotations: [], logprobs: [] };
    const done = { type: 'message', id: msg, status: 'completed', role: 'assistant', content: [finalText] };
    expect(events).toEqual([
      { type: 'response.created', sequence_number: 0, response: response(id, 'in_progress', [], null) },
      { type: 'response.in_progress', sequence_number: 1, response: response(id, 'in_progress', [], null) },
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { type: 'message', id: msg, status: 'in_progress', role: 'assistant', content: [] } },
      { type: 'response.content_part.added', sequence_number: 3, ...at, part: { type: 'output_text', text: '', annotations: [] } },
      { type: 'response.output_text.delta', sequence_number: 4, ...at, delta: 'Hello', logprobs: [] },
      { type: 'response.output_text.delta', sequence_number: 5, ...at, delta: ', ', logprobs: [] },
      { type: 'response.output_text.delta', sequence_number: 6, ...at, delta: 'world.', logprobs: [] },
      { type: 'response.output_text.done', sequence_number: 7, ...at, text: 'Hello, world.', logprobs: [] },
      { type: 'response.content_part.done', sequence_number: 8, ...at, part: finalText },
      { type: 'response.output_item.done', sequence_number: 9, output_index: 0, item: done },
      {
        type: 'response.completed',
        sequence_number: 10,
        response: response(id, 'completed', [done], {
          input_tokens: 50,
          input_tokens_details: { cached_tokens: 10 },
          output_tokens: 20,
          output_tokens_details: { reasoning_tokens: 4 },
          total_tokens: 70,
        }),
      },
    ]);
    expectSequence(events);
  });

  it('push() hands out only the events of that chunk; end() the closing ones', () => {
    const t = new ResponsesStreamTranslator(base as ResponsesRequest);
    expect(t.start().map((e) => e.type)).toEqual(['response.created', 'response.in_progress']);
    expect(t.push(delta({ role: 'assistant' })).map((e) => e.type)).toEqual([]);
    expect(t.push(delta({ content: 'a' })).map((e) => e.type)).toEqual(['response.output_item.added', 'response.content_part.added', 'response.output_text.delta']);
    expect(t.push(delta({ content: 'b' })).map((e) => e.type)).toEqual(['response.output_text.delta']);
    expect(t.push(delta({}, 'stop')).map((e) => e.type)).toEqual([]);
    expect(t.push(chunk([], { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 })).map((e) => e.type)).toEqual([]);
    expect(t.end().map((e) => e.type)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('two tool calls in pieces, indices interleaved → function_call items, argument deltas, .done with the joined arguments', () => {
    const events = run([
      delta({ role: 'assistant', content: null }),
      delta({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz"' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] }),
      delta({ tool_calls: [{ index: 1, function: { arguments: ': "CET"}' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: ': "Paris"}' } }] }),
      delta({}, 'tool_calls'),
      chunk([], { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 }),
    ]);
    const id = events[0].response.id;
    const fc1 = events[2].item.id;
    const fc2 = events[3].item.id;
    expect(fc1).toMatch(ID.fc);
    expect(fc2).toMatch(ID.fc);
    expect(fc1).not.toBe(fc2);
    const call1 = { type: 'function_call', id: fc1, call_id: 'call_1', name: 'get_weather', arguments: '{"city": "Paris"}', status: 'completed' };
    const call2 = { type: 'function_call', id: fc2, call_id: 'call_2', name: 'get_time', arguments: '{"tz": "CET"}', status: 'completed' };
    expect(events.slice(2)).toEqual([
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { ...call1, arguments: '', status: 'in_progress' } },
      { type: 'response.output_item.added', sequence_number: 3, output_index: 1, item: { ...call2, arguments: '', status: 'in_progress' } },
      { type: 'response.function_call_arguments.delta', sequence_number: 4, item_id: fc2, output_index: 1, delta: '{"tz"' },
      { type: 'response.function_call_arguments.delta', sequence_number: 5, item_id: fc1, output_index: 0, delta: '{"city"' },
      { type: 'response.function_call_arguments.delta', sequence_number: 6, item_id: fc2, output_index: 1, delta: ': "CET"}' },
      { type: 'response.function_call_arguments.delta', sequence_number: 7, item_id: fc1, output_index: 0, delta: ': "Paris"}' },
      { type: 'response.function_call_arguments.done', sequence_number: 8, item_id: fc1, output_index: 0, arguments: '{"city": "Paris"}' },
      { type: 'response.output_item.done', sequence_number: 9, output_index: 0, item: call1 },
      { type: 'response.function_call_arguments.done', sequence_number: 10, item_id: fc2, output_index: 1, arguments: '{"tz": "CET"}' },
      { type: 'response.output_item.done', sequence_number: 11, output_index: 1, item: call2 },
      {
        type: 'response.completed',
        sequence_number: 12,
        response: response(id, 'completed', [call1, call2], {
          input_tokens: 30,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 12,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 42,
        }),
      },
    ]);
    expectSequence(events);
  });

  it('text then a tool call: the message is item 0, the call item 1; a call without an id gets one', () => {
    const events = run([delta({ content: 'Let me check.' }), delta({ tool_calls: [{ index: 0, function: { name: 'lookup', arguments: '{}' } }] }), delta({}, 'tool_calls')]);
    const completed = events.at(-1)!;
    expect(completed.type).toBe('response.completed');
    const [message, call] = completed.response.output;
    expect(message).toEqual({
      type: 'message',
      id: expect.stringMatching(ID.msg),
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Let me check.', annotations: [], logprobs: [] }],
    });
    expect(call).toEqual({ type: 'function_call', id: expect.stringMatching(ID.fc), call_id: expect.stringMatching(ID.call), name: 'lookup', arguments: '{}', status: 'completed' });
    expect(events.filter((e) => e.type === 'response.output_item.added').map((e) => [e.output_index, e.item.type])).toEqual([
      [0, 'message'],
      [1, 'function_call'],
    ]);
    expect(completed.response.usage).toEqual(zeroUsage);
    expectSequence(events);
  });

  it('finish_reason length → response.incomplete with incomplete_details.reason max_output_tokens', () => {
    const events = run([delta({ content: 'Once upon a' }, 'length'), chunk([], { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 })], { ...base, max_output_tokens: 3 });
    const last = events.at(-1)!;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toEqual(
      response(
        events[0].response.id,
        'incomplete',
        [{ type: 'message', id: events[2].item.id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a', annotations: [], logprobs: [] }] }],
        { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 8 },
        { max_output_tokens: 3 },
      ),
    );
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
    expectSequence(events);
  });

  it('a stream with nothing but a finish → created, in_progress, completed with no output', () => {
    const events = run([delta({ role: 'assistant' }, 'stop')]);
    const id = events[0].response.id;
    expect(events).toEqual([
      { type: 'response.created', sequence_number: 0, response: response(id, 'in_progress', [], null) },
      { type: 'response.in_progress', sequence_number: 1, response: response(id, 'in_progress', [], null) },
      { type: 'response.completed', sequence_number: 2, response: response(id, 'completed', [], zeroUsage) },
    ]);
  });

  it('chunks for choice index ≠ 0 are ignored (text, tool calls and finish)', () => {
    const events = run([
      chunk([
        { index: 0, delta: { content: 'A' }, finish_reason: null },
        { index: 1, delta: { content: 'B' }, finish_reason: null },
      ]),
      chunk([{ index: 1, delta: { tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: null }]),
      chunk([
        { index: 1, delta: {}, finish_reason: 'length' },
        { index: 0, delta: {}, finish_reason: 'stop' },
      ]),
    ]);
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual(['A']);
    expect(events.filter((e) => e.type === 'response.output_item.added').map((e) => e.item.type)).toEqual(['message']);
    const last = events.at(-1)!;
    expect(last.type).toBe('response.completed');
    expect(last.response.output).toEqual([
      { type: 'message', id: expect.stringMatching(ID.msg), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'A', annotations: [], logprobs: [] }] },
    ]);
    expectSequence(events);
  });

  it('a later finish on choice 1 does not turn a completed answer into an incomplete one', () => {
    const events = run([delta({ content: 'A' }, 'stop'), chunk([{ index: 1, delta: {}, finish_reason: 'length' }])]);
    expect(events.at(-1)!.type).toBe('response.completed');
  });

  it('a streamed refusal is not lost: the final response carries it as toResponse does (a refusal part)', () => {
    const events = run([delta({ role: 'assistant', refusal: "I can't " }), delta({ refusal: 'help.' }), delta({}, 'stop')]);
    const last = events.at(-1)!;
    expect(last.type).toBe('response.completed');
    expect(last.response.output).toEqual([
      { type: 'message', id: expect.stringMatching(ID.msg), status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: "I can't help." }] },
    ]);
    expectSequence(events);
  });

  it('events already handed out do not change when later chunks arrive or the stream ends', () => {
    const t = new ResponsesStreamTranslator(base as ResponsesRequest);
    const handed = [...t.start(), ...t.push(delta({ content: 'Hi' })), ...t.push(delta({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{' } }] }))];
    const asSent = wire(handed);
    t.push(delta({ content: ' there' }));
    t.push(delta({ tool_calls: [{ index: 0, function: { arguments: '}' } }] }, 'tool_calls'));
    t.end();
    expect(wire(handed)).toEqual(asSent);
  });
});

describe('toResponse, more shapes', () => {
  const request = { model: 'groq/m', input: 'x' } as ResponsesRequest;

  it('joins content given as a list of text parts', () => {
    const response = toResponse(completion({ role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, 'stop'), request) as any;
    expect(response.output[0].content[0]).toMatchObject({ type: 'output_text', text: 'ab' });
  });

  it('marks an answer stopped by a content filter incomplete, with that reason', () => {
    const response = toResponse(completion({ role: 'assistant', content: 'partial' }, 'content_filter'), request) as any;
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'content_filter' });
  });
});
