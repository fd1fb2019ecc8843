/**
 * The Messages door's translation on its own, no server: Anthropic Messages requests checked and
 * turned into OpenAI chat requests, chat completions turned into Anthropic messages, and a chat
 * stream turned into Anthropic's exact event sequence.
 */
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../src/errors.js';
import { anthropicError, anthropicErrorType } from '../src/messages/errors.js';
import { StreamTranslator, stopReason, toMessage, toUsage } from '../src/messages/from-chat.js';
import { toChatRequest, validateMessagesRequest } from '../src/messages/to-chat.js';
import type { MessagesRequest } from '../src/messages/types.js';
import type { ChatCompletion, ChatCompletionChunk } from '../src/providers/types.js';
import { GatewayError } from '../src/errors.js';

const base = { model: 'groq/llama', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

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

describe('validateMessagesRequest', () => {
  it('passes a good request through as it is (same object, unknown fields kept)', () => {
    const body = { ...base, system: 'sys', stream: true, stop_sequences: ['END'], temperature: 0.2, top_p: 0.9, tools: [{ name: 't', input_schema: {} }], service_tier: 'auto' };
    expect(validateMessagesRequest(body)).toBe(body);
  });

  it.each([
    ['a non-object body', [1, 2], /^Request body must be a JSON object/],
    ['null', null, /^Request body must be a JSON object/],
    ['no model', { ...base, model: undefined }, /^model: must be a non-empty string/],
    ['a blank model', { ...base, model: '  ' }, /^model: must be a non-empty string/],
    ['no max_tokens', { ...base, max_tokens: undefined }, /^max_tokens: must be a positive integer$/],
    ['max_tokens 0', { ...base, max_tokens: 0 }, /^max_tokens: /],
    ['max_tokens 1.5', { ...base, max_tokens: 1.5 }, /^max_tokens: /],
    ['max_tokens as a string', { ...base, max_tokens: '64' }, /^max_tokens: /],
    ['no messages', { ...base, messages: undefined }, /^messages: must be a non-empty array/],
    ['empty messages', { ...base, messages: [] }, /^messages: must be a non-empty array/],
    ['a system role in messages', { ...base, messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }] }, /^messages\.1\.role: must be "user" or "assistant"$/],
    ['a message that is not an object', { ...base, messages: ['hi'] }, /^messages\.0\.role: /],
    ['numeric content', { ...base, messages: [{ role: 'user', content: 5 }] }, /^messages\.0\.content: must be a string or an array of content blocks$/],
    ['a block without a type', { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { text: 'b' }] }] }, /^messages\.0\.content\.1: must be a content block with a type$/],
    ['a numeric system', { ...base, system: 3 }, /^system: must be a string or an array of text blocks$/],
    ['stream "yes"', { ...base, stream: 'yes' }, /^stream: must be true or false$/],
    ['stop_sequences a string', { ...base, stop_sequences: 'END' }, /^stop_sequences: must be an array of strings$/],
    ['stop_sequences with a number', { ...base, stop_sequences: ['a', 1] }, /^stop_sequences: /],
    ['temperature as a string', { ...base, temperature: '0.5' }, /^temperature: must be a number$/],
    ['top_p as a string', { ...base, top_p: '1' }, /^top_p: must be a number$/],
    ['tools an object', { ...base, tools: { name: 't' } }, /^tools: must be an array$/],
    ['a tool without a name', { ...base, tools: [{ name: 'ok', input_schema: {} }, { input_schema: {} }] }, /^tools\.1: must have a name and an input_schema$/],
  ])('%s → 400 naming the field', (_name, body, wording) => {
    const error = badRequest(() => validateMessagesRequest(body));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(wording);
  });
});

describe('toChatRequest', () => {
  const convert = (extra: Partial<MessagesRequest> & Record<string, unknown>) => toChatRequest({ ...base, ...extra } as MessagesRequest);

  it('a plain request: model, max_tokens and the conversation, nothing else', () => {
    expect(convert({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'again' }] })).toEqual({
      model: 'groq/llama',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ],
    });
  });

  it('a system string becomes the first message', () => {
    expect(convert({ system: 'Be brief.' }).messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('system text blocks are joined into one system message (cache_control dropped)', () => {
    const chat = convert({ system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral' } }] });
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'Be brief.\nBe kind.' });
  });

  it('an empty system adds no message', () => {
    expect(convert({ system: '' }).messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(convert({ system: [] }).messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('a system block that is not text → 400 naming it', () => {
    expect(badRequest(() => convert({ system: [{ type: 'text', text: 'a' }, { type: 'image', source: {} }] as any })).message).toBe('system.1: must be a text block');
  });

  it('text-only blocks of a user message become one string', () => {
    expect(convert({ messages: [{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }] }).messages).toEqual([{ role: 'user', content: 'one\ntwo' }]);
  });

  it('text, base64 image and URL image blocks become chat content parts, in order', () => {
    const chat = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('an image with a bad source → 400 naming the block', () => {
    const error = badRequest(() => convert({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image', source: { type: 'file', file_id: 'f' } }] }] } as any));
    expect(error.message).toBe('messages.0.content.1.source: must be {type: "base64", media_type, data} or {type: "url", url}');
  });

  it('documents: text inline, base64 as a file part, by URL → 400', () => {
    const chat = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'the doc' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'a.pdf' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'the doc' },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      },
    ]);
    const error = badRequest(() => convert({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }] }));
    expect(error.message).toMatch(/^messages\.0\.content\.0\.source: a document by URL needs a provider that serves the Messages API itself/);
  });

  it('an assistant turn with text and tool_use → content plus tool_calls with JSON arguments', () => {
    const chat = convert({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', days: [1, 2] } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
          ],
        },
      ],
    });
    expect(chat.messages[1]).toEqual({
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":[1,2]}' } },
        { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    });
  });

  it('an assistant turn with only tool_use has null content; thinking becomes reasoning_content; redacted thinking is dropped', () => {
    const chat = convert({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should call it.', signature: 'sig' },
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'tool_use', id: 'toolu_9', name: 'run', input: { n: 1 } },
          ],
        },
      ],
    });
    expect(chat.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'run', arguments: '{"n":1}' } }],
      reasoning_content: 'I should call it.',
    });
  });

  it('tool_result blocks become tool messages, placed before the rest of that user message', () => {
    const chat = convert({
      messages: [
        { role: 'user', content: 'weather and time?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Here you go.' },
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'clock' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } },
                { type: 'text', text: 'unavailable' },
              ],
              is_error: true,
            },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18°C, sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: clock\n[image]\nunavailable' },
      { role: 'user', content: 'Here you go.' },
    ]);
  });

  it('a user message of tool results only adds no empty user message; a result without content is empty text', () => {
    const chat = convert({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }] });
    expect(chat.messages).toEqual([{ role: 'tool', tool_call_id: 'toolu_1', content: '' }]);
  });

  it('blocks in the wrong role, or of unknown type → 400 naming the block', () => {
    expect(badRequest(() => convert({ messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] })).message).toBe(
      'messages.0.content.0: tool_use blocks belong to assistant messages',
    );
    expect(badRequest(() => convert({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'a', content: 'b' }] }] })).message).toBe(
      'messages.1.content.0: tool_result blocks belong to user messages',
    );
    expect(badRequest(() => convert({ messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] } as any)).message).toBe(
      'messages.0.content.0.type: "search_result" is not supported when translating to chat completions',
    );
  });

  it('tools become functions with input_schema as parameters (description only when given)', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const chat = convert({ tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: schema }, { name: 'noop', input_schema: { type: 'object' } }] });
    expect(chat.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: schema } },
      { type: 'function', function: { name: 'noop', parameters: { type: 'object' } } },
    ]);
    expect(convert({ tools: [] }).tools).toBeUndefined();
  });

  it.each([
    [{ type: 'auto' }, { tool_choice: 'auto' }],
    [{ type: 'any' }, { tool_choice: 'required' }],
    [{ type: 'none' }, { tool_choice: 'none' }],
    [{ type: 'tool', name: 'get_weather' }, { tool_choice: { type: 'function', function: { name: 'get_weather' } } }],
    [{ type: 'auto', disable_parallel_tool_use: true }, { tool_choice: 'auto', parallel_tool_calls: false }],
    [{ type: 'tool', name: 'x', disable_parallel_tool_use: true }, { tool_choice: { type: 'function', function: { name: 'x' } }, parallel_tool_calls: false }],
    [{ type: 'any', disable_parallel_tool_use: false }, { tool_choice: 'required' }],
  ])('tool_choice %j → %j', (choice, expected) => {
    const chat = convert({ tools: [{ name: 'get_weather', input_schema: {} }], tool_choice: choice as any });
    expect({ tool_choice: chat.tool_choice, ...('parallel_tool_calls' in chat && { parallel_tool_calls: chat.parallel_tool_calls }) }).toEqual(expected);
  });

  it('an unknown tool_choice type → 400', () => {
    expect(badRequest(() => convert({ tool_choice: { type: 'maybe' } as any })).message).toBe('tool_choice.type: must be auto, any, tool or none');
  });

  it('sampling, stop_sequences, metadata.user_id and thinking map to their chat fields', () => {
    expect(
      convert({ temperature: 0.3, top_p: 0.8, top_k: 40, stop_sequences: ['END', '###'], metadata: { user_id: 'user-42' }, thinking: { type: 'enabled', budget_tokens: 1024 } }),
    ).toEqual({
      model: 'groq/llama',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.3,
      top_p: 0.8,
      top_k: 40,
      stop: ['END', '###'],
      user: 'user-42',
      reasoning_effort: 'low',
    });
  });

  it('empty stop_sequences, no user_id and disabled thinking add nothing', () => {
    expect(convert({ stop_sequences: [], metadata: {}, thinking: { type: 'disabled' } })).toEqual({ model: 'groq/llama', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  });

  it.each([
    [1024, 'low'],
    [2048, 'low'],
    [2049, 'medium'],
    [16_384, 'medium'],
    [16_385, 'high'],
    [64_000, 'high'],
  ])('a thinking budget of %i → reasoning_effort %s', (budget, effort) => {
    expect(convert({ thinking: { type: 'enabled', budget_tokens: budget } }).reasoning_effort).toBe(effort);
  });
});

const completion = (message: Record<string, unknown>, finish: string | null, usage?: Record<string, unknown>): ChatCompletion =>
  ({
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'llama',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    ...(usage && { usage }),
  }) as ChatCompletion;

describe('toMessage', () => {
  it('a text answer, with usage (cached prompt tokens counted apart)', () => {
    const message = toMessage(completion({ content: 'Hello!' }, 'stop', { prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 40 } }), 'groq/llama');
    expect(message).toEqual({
      id: 'msg_chatcmpl-abc',
      type: 'message',
      role: 'assistant',
      model: 'groq/llama',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 60, output_tokens: 7, cache_read_input_tokens: 40, cache_creation_input_tokens: null },
    });
  });

  it('usage without cache details, and no usage at all', () => {
    expect(toMessage(completion({ content: 'x' }, 'stop', { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }), 'm').usage).toEqual({
      input_tokens: 12,
      output_tokens: 3,
      cache_read_input_tokens: null,
      cache_creation_input_tokens: null,
    });
    expect(toMessage(completion({ content: 'x' }, 'stop'), 'm').usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null, cache_creation_input_tokens: null });
  });

  it('an id already in Anthropic form is kept', () => {
    expect(toMessage({ ...completion({ content: 'x' }, 'stop'), id: 'msg_01XYZ' }, 'm').id).toBe('msg_01XYZ');
  });

  it('content given as parts is joined to one text block', () => {
    expect(toMessage(completion({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, 'stop'), 'm').content).toEqual([{ type: 'text', text: 'ab' }]);
  });

  it('an empty answer has no content blocks', () => {
    expect(toMessage(completion({ content: '' }, 'length'), 'm')).toMatchObject({ content: [], stop_reason: 'max_tokens' });
  });

  it('a refusal is a text block with stop_reason refusal', () => {
    const message = toMessage(completion({ content: null, refusal: "I can't help with that." }, 'stop'), 'm');
    expect(message.content).toEqual([{ type: 'text', text: "I can't help with that." }]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('tool calls become tool_use blocks with parsed input; broken JSON is kept, not thrown', () => {
    const message = toMessage(
      completion(
        {
          content: 'Calling tools.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } },
            { id: 'call_2', type: 'function', function: { name: 'broken', arguments: '{"city": "Par' } },
            { id: 'call_3', type: 'function', function: { name: 'empty', arguments: '' } },
            { id: 'call_4', type: 'function', function: { name: 'scalar', arguments: '42' } },
          ],
        },
        'tool_calls',
      ),
      'm',
    );
    expect(message.content).toEqual([
      { type: 'text', text: 'Calling tools.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris', days: 2 } },
      { type: 'tool_use', id: 'call_2', name: 'broken', input: { _raw: '{"city": "Par' } },
      { type: 'tool_use', id: 'call_3', name: 'empty', input: {} },
      { type: 'tool_use', id: 'call_4', name: 'scalar', input: { value: 42 } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('reasoning (reasoning_content or reasoning) becomes a thinking block before the text', () => {
    expect(toMessage(completion({ content: 'Four.', reasoning_content: '2+2=4' }, 'stop'), 'm').content).toEqual([
      { type: 'thinking', thinking: '2+2=4', signature: '' },
      { type: 'text', text: 'Four.' },
    ]);
    expect(toMessage(completion({ content: 'Four.', reasoning: 'adding' }, 'stop'), 'm').content).toEqual([
      { type: 'thinking', thinking: 'adding', signature: '' },
      { type: 'text', text: 'Four.' },
    ]);
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    ['something_new', 'end_turn'],
    [null, null],
  ])('finish_reason %s → stop_reason %s', (finish, stop) => {
    expect(toMessage(completion({ content: 'x' }, finish), 'm').stop_reason).toBe(stop);
    expect(stopReason(finish)).toBe(stop);
  });

  it('toUsage on its own', () => {
    expect(toUsage({ prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } })).toEqual({
      input_tokens: 10,
      output_tokens: 2,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: null,
    });
  });
});

describe('StreamTranslator', () => {
  const chunk = (choices: ChatCompletionChunk['choices'], usage?: Record<string, unknown>): ChatCompletionChunk =>
    ({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'llama', choices, ...(usage && { usage }) }) as ChatCompletionChunk;
  const delta = (d: Record<string, unknown>, finish: string | null = null) => chunk([{ index: 0, delta: d, finish_reason: finish }]);
  const run = (chunks: ChatCompletionChunk[], model = 'groq/llama') => {
    const t = new StreamTranslator(model);
    return [...chunks.flatMap((c) => t.push(c)), ...t.end()];
  };
  const messageStart = (model = 'groq/llama') => ({
    type: 'message_start',
    message: {
      id: 'msg_chatcmpl-s1',
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null, cache_creation_input_tokens: null },
    },
  });

  it('text, then a tool call in pieces, then a second tool call, then finish and usage → Anthropic\'s exact events', () => {
    const events = run([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'Let me ' }),
      delta({ content: 'check.' }),
      delta({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: ': "Paris"}' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
      delta({}, 'tool_calls'),
      chunk([], { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 10 } }),
    ]);
    expect(events).toEqual([
      messageStart(),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'check.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city"' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ': "Paris"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 40, output_tokens: 20, cache_read_input_tokens: 10 } },
      { type: 'message_stop' },
    ]);
  });

  it('reasoning deltas become a thinking block, closed when the text starts', () => {
    const events = run([
      delta({ role: 'assistant', reasoning_content: 'Two plus ' }),
      delta({ reasoning_content: 'two.' }),
      delta({ reasoning: ' Four.' }),
      delta({ content: '4' }),
      delta({}, 'stop'),
      chunk([], { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 }),
    ]);
    expect(events).toEqual([
      messageStart(),
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Two plus ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'two.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: ' Four.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '4' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: null } },
      { type: 'message_stop' },
    ]);
  });

  it('a stream with nothing but a finish still makes a whole, empty message', () => {
    expect(run([delta({ role: 'assistant' }, 'length')])).toEqual([
      messageStart(),
      { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null } },
      { type: 'message_stop' },
    ]);
  });

  it('a refusal streams as text with stop_reason refusal', () => {
    const events = run([delta({ refusal: "I can't " }), delta({ refusal: 'help.' }), delta({}, 'stop')]);
    expect(events.slice(1)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: "I can't " } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'help.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null } },
      { type: 'message_stop' },
    ]);
  });

  it('choices other than the first are left out (Messages has one answer)', () => {
    const events = run([
      chunk([
        { index: 0, delta: { content: 'A' }, finish_reason: null },
        { index: 1, delta: { content: 'B' }, finish_reason: null },
      ]),
      chunk([
        { index: 1, delta: {}, finish_reason: 'length' },
        { index: 0, delta: {}, finish_reason: 'stop' },
      ]),
    ]);
    expect(events.filter((e) => e.type === 'content_block_delta')).toEqual([{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'A' } }]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
  });

  it('the model named is the one the client asked for; message_start comes once', () => {
    const events = run([delta({ content: 'a' }), delta({ content: 'b' }), delta({}, 'stop')], 'smart-alias');
    expect(events.filter((e) => e.type === 'message_start')).toEqual([messageStart('smart-alias')]);
  });
});

describe('errors in Anthropic\'s shape', () => {
  it.each([
    [400, 'invalid_request_error'],
    [405, 'invalid_request_error'],
    [422, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [503, 'overloaded_error'],
    [529, 'overloaded_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [504, 'api_error'],
  ])('%i → %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
    expect(anthropicError(new GatewayError('why', status, 'UPSTREAM_ERROR'))).toEqual({ type: 'error', error: { type, message: 'why' } });
  });
});
