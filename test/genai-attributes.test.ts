/**
 * The GenAI span attributes read from each API's requests, answers and stream events (the spans
 * themselves are tested end to end in tracing.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { answerOf, genAiProviderName, inputContent, outputContent, requestAttributes, responseAttributes, StreamFacts } from '../src/telemetry/genai.js';

describe('provider names', () => {
  it('the well-known values where they differ from the gateway ids, else the id', () => {
    expect(genAiProviderName('google')).toBe('gcp.gemini');
    expect(genAiProviderName('mistral')).toBe('mistral_ai');
    expect(genAiProviderName('openai')).toBe('openai');
    expect(genAiProviderName('llamacpp')).toBe('llamacpp');
  });
});

describe('request parameters', () => {
  it('OpenAI chat, Anthropic Messages and Responses names map to gen_ai.request.*, content never', () => {
    expect(requestAttributes({ model: 'x', temperature: 0.2, top_p: 0.9, max_completion_tokens: 10, max_tokens: 99, seed: 7, stop: 'END', n: 2, messages: [{ role: 'user', content: 'secret' }] })).toEqual({
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.max_tokens': 10,
      'gen_ai.request.seed': 7,
      'gen_ai.request.stop_sequences': ['END'],
      'gen_ai.request.choice.count': 2,
    });
    expect(requestAttributes({ max_tokens: 64, stop_sequences: ['a', 'b'], top_k: 5 })).toEqual({ 'gen_ai.request.max_tokens': 64, 'gen_ai.request.stop_sequences': ['a', 'b'], 'gen_ai.request.top_k': 5 });
    expect(requestAttributes({ max_output_tokens: 32, input: 'secret' })).toEqual({ 'gen_ai.request.max_tokens': 32 });
    expect(requestAttributes(null)).toEqual({});
  });
});

describe('answers', () => {
  it('chat completion, Messages and Responses answers give id, model and finish reasons', () => {
    const chat = { completion: { id: 'c1', model: 'm', choices: [{ finish_reason: 'stop' }, { finish_reason: 'length' }] } };
    expect(responseAttributes(answerOf(chat))).toEqual({ 'gen_ai.response.id': 'c1', 'gen_ai.response.model': 'm', 'gen_ai.response.finish_reasons': ['stop', 'length'] });
    const message = { message: { id: 'msg_1', model: 'claude', stop_reason: 'end_turn', content: [] } };
    expect(responseAttributes(answerOf(message))).toEqual({ 'gen_ai.response.id': 'msg_1', 'gen_ai.response.model': 'claude', 'gen_ai.response.finish_reasons': ['end_turn'] });
    const response = { response: { id: 'resp_1', object: 'response', model: 'gpt', status: 'completed' } };
    expect(responseAttributes(answerOf(response))).toEqual({ 'gen_ai.response.id': 'resp_1', 'gen_ai.response.model': 'gpt', 'gen_ai.response.finish_reasons': ['completed'] });
  });
});

describe('content (only read with capture on)', () => {
  it('messages as role + parts; images and files by kind only, never their bytes', () => {
    const attributes = inputContent({
      system: 'be brief',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', data: 'AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'sunny' },
      ],
    });
    expect(JSON.parse(String(attributes['gen_ai.input.messages']))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'look' }, { type: 'image' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 't1', name: 'f', arguments: '{}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 't1', response: 'sunny' }] },
    ]);
    expect(JSON.parse(String(attributes['gen_ai.system_instructions']))).toEqual([{ type: 'text', content: 'be brief' }]);
    expect(JSON.stringify(attributes)).not.toContain('AAAA');
  });

  it("a Messages answer's blocks as the output message", () => {
    const out = outputContent({ content: [{ type: 'text', text: 'hi' }, { type: 'tool_use', id: 'u1', name: 'f', input: { a: 1 } }], stop_reason: 'tool_use' });
    expect(JSON.parse(String(out['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'hi' }, { type: 'tool_call', id: 'u1', name: 'f', arguments: { a: 1 } }], finish_reason: 'tool_use' },
    ]);
  });
});

describe('stream facts', () => {
  it('from chat chunks', () => {
    const facts = new StreamFacts(true);
    facts.see({ chunk: { id: 'c', model: 'm', choices: [{ delta: { content: 'Hel' } }] } });
    facts.see({ chunk: { id: 'c', model: 'm', choices: [{ delta: { content: 'lo' }, finish_reason: 'stop' }] } });
    expect(facts.attributes()).toEqual({
      'gen_ai.response.id': 'c',
      'gen_ai.response.model': 'm',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello' }], finish_reason: 'stop' }]),
    });
  });

  it("from Anthropic's and the Responses API's events; no text without capture", () => {
    const messages = new StreamFacts(false);
    for (const parsed of [
      { type: 'message_start', message: { id: 'msg', model: 'claude' } },
      { type: 'content_block_delta', delta: { type: 'text_delta', text: 'secret' } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' } },
    ]) messages.see({ event: parsed.type, data: '', parsed });
    expect(messages.attributes()).toEqual({ 'gen_ai.response.id': 'msg', 'gen_ai.response.model': 'claude', 'gen_ai.response.finish_reasons': ['end_turn'] });

    const responses = new StreamFacts(true);
    for (const parsed of [
      { type: 'response.created', response: { id: 'r', model: 'gpt' } },
      { type: 'response.output_text.delta', delta: 'Hi' },
      { type: 'response.completed', response: { status: 'completed' } },
    ]) responses.see({ event: parsed.type, data: '', parsed });
    expect(responses.attributes()).toMatchObject({ 'gen_ai.response.model': 'gpt', 'gen_ai.response.finish_reasons': ['completed'] });
    expect(JSON.parse(String(responses.attributes()['gen_ai.output.messages']))[0].parts).toEqual([{ type: 'text', content: 'Hi' }]);
  });
});
