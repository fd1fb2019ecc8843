/**
 * A fake LLM provider on a real loopback HTTP server, speaking the provider's actual wire format:
 * OpenAI chat completions (JSON and SSE, tool calls, usage), each vendor's own model list, each
 * vendor's auth header and error body. Misbehaviour is chosen by model name, so one fake serves
 * every test: `fail-<status>`, `hang` (never answers), `reset` (drops the socket), `malformed`,
 * `cut-stream` (drops the socket mid-stream), `slow-stream` (one chunk then silence), `error-stream`,
 * `paced-stream` (a whole stream, 40 ms between chunks), `endless-stream` (chunks every 20 ms, forever).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Flavor = 'openai' | 'anthropic' | 'cohere' | 'cloudflare' | 'google';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
}

export interface FakeProviderOptions {
  flavor?: Flavor;
  /** Path prefix of the provider's base URL, e.g. `/v1` or `/openai/v1`. */
  basePath?: string;
  /** The key the fake demands; undefined = keyless (no auth check). */
  apiKey?: string;
  models?: string[];
  /** Where the chat endpoint lives below basePath (cohere: /compatibility/v1/chat/completions). */
  chatPath?: string;
  modelsPath?: string;
  /** Where this fake serves Anthropic's Messages API (default: `/messages` below basePath, for the anthropic flavor only). */
  messagesPath?: string;
  /** Where this fake serves OpenAI's Responses API (default `/responses` below basePath); `false`: not at all. */
  responsesPath?: string | false;
  /** OpenAI's images API at `/images/generations` below basePath: OpenAI's format, or Z.ai's (URLs only, no n). */
  images?: 'openai' | 'zai' | false;
  /** The embeddings endpoint and its dialect (default: OpenAI's, at `/embeddings`). */
  embeddings?: { path?: string; format?: EmbeddingsFormat; base64?: boolean };
}

/** Embeddings dialects, as each provider's real API speaks them. */
export type EmbeddingsFormat = 'openai' | 'mistral' | 'nvidia' | 'minimax';

export interface FakeProvider {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests whose client went away before the fake finished answering. */
  readonly aborted: RecordedRequest[];
  /** Resolves when the next request is aborted by its client. */
  nextAbort(): Promise<RecordedRequest>;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: number;
  close(): Promise<void>;
}

const CREATED = 1_700_000_000;

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const flavor = options.flavor ?? 'openai';
  const basePath = options.basePath ?? '/v1';
  const chatPath = basePath + (options.chatPath ?? '/chat/completions');
  const modelsPath = basePath + (options.modelsPath ?? defaultModelsPath(flavor));
  const models = options.models ?? ['model-a', 'model-b'];
  const embeddingsPath = basePath + (options.embeddings?.path ?? '/embeddings');
  const responsesPath = options.responsesPath === false ? undefined : basePath + (options.responsesPath ?? '/responses');
  const imagesFormat = options.images ?? 'openai';
  const messagesPath = options.messagesPath ?? (flavor === 'anthropic' ? `${basePath}/messages` : undefined);
  const embeddingsFormat = options.embeddings?.format ?? 'openai';
  const embeddingsBase64 = options.embeddings?.base64 ?? true;
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  const abortWaiters: ((r: RecordedRequest) => void)[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req, res) => {
    const body = await readAll(req);
    let json: any;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
    requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) {
        aborted.push(recorded);
        abortWaiters.splice(0).forEach((w) => w(recorded));
      }
    });
    if (options.apiKey !== undefined && !authorised(flavor, req, options.apiKey)) return sendAuthError(flavor, res);
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && (req.url === modelsPath || path === modelsPath.split('?')[0])) {
      return send(res, 200, modelList(flavor, models));
    }
    if (req.method === 'POST' && path === chatPath) return chat(json, res);
    if (req.method === 'POST' && path === embeddingsPath) return embed(embeddingsFormat, embeddingsBase64, json, res);
    if (req.method === 'POST' && path === messagesPath) return anthropicMessages(json, res);
    if (req.method === 'POST' && path === responsesPath) return openaiResponses(json, res);
    if (req.method === 'POST' && imagesFormat && path === `${basePath}/images/generations`) return images(imagesFormat, json, res);
    if (path === `${basePath}/echo`) return send(res, 200, { method: req.method, query: req.url, body });
    send(res, 404, { error: { message: `fake has no route ${req.method} ${req.url}`, type: 'not_found' } });
  });
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    requests,
    aborted,
    get connections() {
      return connections;
    },
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function chat(request: any, res: ServerResponse): void {
  const model: string = request?.model ?? '';
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) {
    const status = Number(failure[1]);
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '7' } : {};
    return send(res, status, { error: { message: `fake failure ${status}`, type: 'server_error', code: null } }, headers);
  }
  if (model === 'hang') return; // never answers; the client must give up on its own
  if (model === 'trickle') {
    // Headers at once, then the body a byte at a time, forever: only a total deadline ends it.
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 200);
    return void res.on('close', () => clearInterval(timer));
  }
  if (model === 'reset') return void res.socket?.destroy();
  if (model === 'huge') {
    // 40 MiB of valid-looking JSON, written in pieces.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"chatcmpl-huge","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"');
    const piece = 'x'.repeat(1024 * 1024);
    let left = 40;
    const more = () => {
      while (left > 0) {
        left--;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end('"},"finish_reason":"stop"}]}');
    };
    return more();
  }
  if (model === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end('{"id": "chatcmpl-broken", "choices": [');
  }
  const reply = replyFor(request);
  if (request?.stream) return stream(request, reply, res);
  const usage = usageFor(request, reply);
  send(res, 200, {
    id: 'chatcmpl-fake123',
    object: 'chat.completion',
    created: CREATED,
    model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: reply.toolCall
          ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake1', type: 'function', function: reply.toolCall }] }
          : reply.refusal
            ? { role: 'assistant', content: null, refusal: reply.refusal }
            : { role: 'assistant', content: reply.text, refusal: null },
        logprobs: request?.logprobs ? logprobsFor(reply.text, request.top_logprobs) : null,
        finish_reason: reply.toolCall ? 'tool_calls' : 'stop',
      },
    ],
    usage,
  });
}

/** OpenAI's logprobs object for a text, one entry per word. */
function logprobsFor(text: string, top: unknown) {
  const content = text.split(/(?<= )/).filter(Boolean).map((token, i) => ({
    token,
    logprob: -0.25 * (i + 1),
    bytes: [...Buffer.from(token)],
    top_logprobs: Array.from({ length: Number(top) || 0 }, (_, k) => ({ token: `${token}${k}`, logprob: -1 - k, bytes: null })),
  }));
  return { content, refusal: null };
}

function stream(request: any, reply: Reply, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const base = { id: 'chatcmpl-fakestream', object: 'chat.completion.chunk', created: CREATED, model: request.model, system_fingerprint: 'fp_fake' };
  const frames: string[] = [];
  const chunk = (delta: object, finish: string | null = null) =>
    frames.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`);
  chunk({ role: 'assistant', content: '' });
  if (reply.toolCall) {
    chunk({ tool_calls: [{ index: 0, id: 'call_fake1', type: 'function', function: { name: reply.toolCall.name, arguments: '' } }] });
    for (const piece of splitEvery(reply.toolCall.arguments, 8)) chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    chunk({}, 'tool_calls');
  } else if (reply.refusal) {
    for (const word of reply.refusal.split(/(?<= )/)) chunk({ refusal: word });
    chunk({}, 'stop');
  } else {
    for (const word of reply.text.split(/(?<= )/)) {
      if (request.logprobs) {
        frames.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: word }, logprobs: logprobsFor(word, request.top_logprobs), finish_reason: null }] })}\n\n`);
      } else chunk({ content: word });
    }
    chunk({}, 'stop');
  }
  if (request.stream_options?.include_usage) {
    frames.push(`data: ${JSON.stringify({ ...base, choices: [], usage: usageFor(request, reply) })}\n\n`);
  }
  frames.push('data: [DONE]\n\n');

  const model: string = request.model;
  if (model === 'cut-stream') {
    res.write(frames[0]);
    res.write(frames[1]);
    return void setImmediate(() => res.socket?.destroy());
  }
  if (model === 'slow-stream') return void res.write(frames[0]); // then silence
  // Every frame in one write, as an upstream sends an answer it already has (a cache, a fast model).
  if (model === 'burst-stream') return void res.end(frames.join(''));
  if (model === 'error-stream') {
    res.write(frames[0]);
    return void res.end(`data: ${JSON.stringify({ error: { message: 'fake overloaded mid-stream', type: 'server_error', code: 503 } })}\n\n`);
  }
  if (model === 'malformed-stream') {
    res.write(frames[0]);
    return void res.end('data: {not json\n\n');
  }
  if (model === 'endless-stream') {
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(frames[1])), 20);
    return void res.on('close', () => clearInterval(timer));
  }
  const gap = model === 'paced-stream' ? 40 : 0;
  // Write frame by frame so the gateway really sees a stream, not one buffer.
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === frames.length) return void res.end();
    res.write(frames[i++]);
    if (gap) setTimeout(next, gap);
    else setImmediate(next);
  };
  next();
}

interface Reply {
  text: string;
  toolCall?: { name: string; arguments: string };
  refusal?: string;
}

function replyFor(request: any): Reply {
  if (request?.model === 'refuse') return { text: '', refusal: "I'm sorry, I can't help with that." };
  const tools = request?.tools;
  if (Array.isArray(tools) && tools.length > 0 && request.tool_choice !== 'none') {
    const name = String(tools[0]?.function?.name ?? 'unnamed');
    return { text: '', toolCall: { name, arguments: JSON.stringify({ location: 'Paris', unit: 'celsius' }) } };
  }
  const messages: any[] = Array.isArray(request?.messages) ? request.messages : [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return { text: `You said: ${typeof last?.content === 'string' ? last.content : '(nothing)'}` };
}

/** Usage as OpenAI reports it today, with cached and reasoning token details. */
function usageFor(request: any, reply: Reply) {
  const prompt = JSON.stringify(request?.messages ?? []).length;
  const completion = (reply.text || reply.toolCall?.arguments || reply.refusal || '').length;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.floor(prompt / 2), audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: request?.reasoning_effort ? Math.floor(completion / 3) : 0, audio_tokens: 0 },
  };
}

/** Anthropic's Messages API: a message, or its event stream, answering the last user text (or calling the first tool). */
function anthropicMessages(request: any, res: ServerResponse): void {
  const model: string = request?.model ?? '';
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) {
    const status = Number(failure[1]);
    return send(res, status, { type: 'error', error: { type: status === 529 ? 'overloaded_error' : 'api_error', message: `fake failure ${status}` } });
  }
  if (!Number.isInteger(request?.max_tokens)) return send(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  const last = [...(request.messages ?? [])].reverse().find((m: any) => m.role === 'user');
  const said = typeof last?.content === 'string' ? last.content : (last?.content ?? []).filter((b: any) => b.type === 'text').map((b: any) => b.text).join('');
  const tool = Array.isArray(request.tools) && request.tools.length > 0 && request.tool_choice?.type !== 'none' ? request.tools[0] : undefined;
  const text = `You said: ${said}`;
  const usage = { input_tokens: JSON.stringify(request.messages).length, output_tokens: text.length, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  const message = {
    id: 'msg_fake123',
    type: 'message',
    role: 'assistant',
    model,
    content: tool ? [{ type: 'tool_use', id: 'toolu_fake1', name: tool.name, input: { location: 'Paris' } }] : [{ type: 'text', text }],
    stop_reason: tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage,
  };
  if (!request.stream) return send(res, 200, message);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const frames = [event('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }), event('ping', {})];
  if (tool) {
    frames.push(event('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_fake1', name: tool.name, input: {} } }));
    for (const piece of ['{"locat', 'ion": "Par', 'is"}']) frames.push(event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: piece } }));
  } else {
    frames.push(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    for (const word of text.split(/(?<= )/)) frames.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } }));
  }
  frames.push(event('content_block_stop', { index: 0 }));
  frames.push(event('message_delta', { delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  frames.push(event('message_stop', {}));
  if (model === 'claude-burst') return void res.end(frames.join('')); // every event in one write
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === frames.length) return void res.end();
    res.write(frames[i++]);
    setImmediate(next);
  };
  next();
}

/** OpenAI's Responses API (stateless): a response, or its event stream, answering the input's last user text. */
function openaiResponses(request: any, res: ServerResponse): void {
  const model: string = request?.model ?? '';
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) return send(res, Number(failure[1]), { error: { message: `fake failure ${failure[1]}`, type: 'server_error', param: null, code: null } });
  if (request?.store !== false) return send(res, 400, { error: { message: 'fake: expected store: false from the gateway', type: 'invalid_request_error' } });
  const input = request.input;
  const said = typeof input === 'string' ? input : [...input].reverse().find((i: any) => i.role === 'user')?.content ?? '';
  const text = `You said: ${typeof said === 'string' ? said : said.map((p: any) => p.text ?? '').join('')}`;
  const usage = { input_tokens: JSON.stringify(input).length, input_tokens_details: { cached_tokens: 0 }, output_tokens: text.length, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: JSON.stringify(input).length + text.length };
  const item = { type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
  const response = { id: 'resp_fake', object: 'response', created_at: CREATED, status: 'completed', model, output: [item], usage, store: false, error: null, incomplete_details: null };
  if (!request.stream) return send(res, 200, response);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let seq = 0;
  const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const frames = [
    event('response.created', { response: { ...response, status: 'in_progress', output: [], usage: null } }),
    event('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
    event('response.content_part.added', { item_id: 'msg_fake', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }),
    ...text.split(/(?<= )/).map((delta) => event('response.output_text.delta', { item_id: 'msg_fake', output_index: 0, content_index: 0, delta })),
    event('response.output_text.done', { item_id: 'msg_fake', output_index: 0, content_index: 0, text }),
    event('response.output_item.done', { output_index: 0, item }),
    event('response.completed', { response }),
  ];
  res.end(frames.join(''));
}

/** OpenAI's images API; Z.ai's variant answers one URL and refuses fields it does not take. */
function images(format: 'openai' | 'zai', request: any, res: ServerResponse): void {
  const model: string = request?.model ?? '';
  const failure = /^fail-(\d{3})$/.exec(model);
  if (failure) return send(res, Number(failure[1]), { error: { message: `fake failure ${failure[1]}`, type: 'server_error' } });
  if (format === 'zai') {
    const unknown = Object.keys(request ?? {}).filter((k) => !['model', 'prompt', 'quality', 'size', 'user_id'].includes(k));
    if (unknown.length) return send(res, 400, { error: { code: '1214', message: `unknown parameters: ${unknown.join(', ')}` } });
    return send(res, 200, { created: CREATED, data: [{ url: `https://images.example/${encodeURIComponent(request.prompt)}.png` }], content_filter: [] });
  }
  const n = request.n ?? 1;
  const b64 = model.startsWith('gpt-image') || request.response_format === 'b64_json';
  const data = Array.from({ length: n }, (_, i) => (b64 ? { b64_json: Buffer.from(`png:${request.prompt}:${i}`).toString('base64') } : { url: `https://images.example/${i}.png`, revised_prompt: `A picture of ${request.prompt}` }));
  send(res, 200, { created: CREATED, data, ...(model.startsWith('gpt-image') && { usage: { input_tokens: request.prompt.length, output_tokens: 1056 * n, total_tokens: request.prompt.length + 1056 * n } }) });
}

/** A vector for a text: deterministic, and exact in float32 (k/1024), so base64 round trips are checkable. */
export function fakeVector(text: string, dimensions = 8): number[] {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)!) % 100_003;
  return Array.from({ length: dimensions }, (_, i) => (((h + i * 7919) % 2048) - 1024) / 1024);
}

const EMBEDDING_FAILURES = /^fail-(\d{3})$/;

function embed(format: EmbeddingsFormat, base64: boolean, request: any, res: ServerResponse): void {
  const model: string = request?.model ?? '';
  const failure = EMBEDDING_FAILURES.exec(model);
  if (failure) return send(res, Number(failure[1]), { error: { message: `fake failure ${failure[1]}`, type: 'server_error', code: null } });
  if (model === 'reset') return void res.socket?.destroy();
  if (model === 'hang') return;
  if (format === 'minimax') {
    // MiniMax answers failures with HTTP 200 and a status in base_resp.
    if (model === 'minimax-bad-key') return send(res, 200, { vectors: null, base_resp: { status_code: 1004, status_msg: 'login fail: Please carry the API secret key' } });
    if (!Array.isArray(request?.texts) || !['db', 'query'].includes(request?.type)) {
      return send(res, 200, { vectors: null, base_resp: { status_code: 2013, status_msg: 'invalid params: texts and type (db or query) are required' } });
    }
    const texts: string[] = request.texts;
    return send(res, 200, {
      vectors: texts.map((t) => fakeVector(t)),
      total_tokens: tokensOf(texts),
      base_resp: { status_code: 0, status_msg: 'success' },
    });
  }
  if (format === 'mistral') {
    const allowed = new Set(['model', 'input', 'output_dimension', 'output_dtype', 'encoding_format']);
    const extra = Object.keys(request ?? {}).filter((k) => !allowed.has(k));
    if (extra.length > 0) {
      return send(res, 422, { detail: extra.map((k) => ({ type: 'extra_forbidden', loc: ['body', k], msg: 'Extra inputs are not permitted', input: request[k] })) });
    }
  }
  if (format === 'nvidia' && /embedqa/.test(model) && !['query', 'passage'].includes(request?.input_type)) {
    return send(res, 400, { error: "'input_type' parameter is required for asymmetric models" });
  }
  if (request?.encoding_format === 'base64' && !base64) {
    return send(res, 400, { error: { message: 'Invalid value for encoding_format: base64 is not supported', type: 'invalid_request_error', code: 400 } });
  }
  const inputs: string[] = Array.isArray(request?.input) ? request.input : [request?.input];
  const dimensions = format === 'mistral' ? request.output_dimension : request.dimensions;
  const data = inputs.map((text, index) => {
    const vector = fakeVector(String(text), dimensions);
    const embedding = request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = tokensOf(inputs.map(String));
  send(res, 200, {
    ...(format === 'mistral' && { id: 'embd-fake' }),
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function tokensOf(texts: string[]): number {
  return texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
}

function splitEvery(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

function defaultModelsPath(flavor: Flavor): string {
  switch (flavor) {
    case 'cohere':
      return '/v1/models';
    case 'cloudflare':
      return '/models/search?per_page=1000';
    default:
      return '/models';
  }
}

/** Each vendor's real model-list shape. */
function modelList(flavor: Flavor, models: string[]): unknown {
  switch (flavor) {
    case 'openai':
      return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'fake-org' })) };
    case 'google':
      return { object: 'list', data: models.map((id) => ({ id: `models/${id}`, object: 'model', owned_by: 'google' })) };
    case 'anthropic':
      return {
        data: models.map((id) => ({ type: 'model', id, display_name: id.toUpperCase(), created_at: '2025-02-19T00:00:00Z' })),
        has_more: false,
        first_id: models[0] ?? null,
        last_id: models.at(-1) ?? null,
      };
    case 'cohere':
      return {
        models: [
          ...models.map((name) => ({ name, endpoints: ['generate', 'chat', 'summarize'], finetuned: false, context_length: 128000 })),
          { name: 'embed-english-v3.0', endpoints: ['embed'], finetuned: false, context_length: 512 },
        ],
        next_page_token: null,
      };
    case 'cloudflare':
      return {
        success: true,
        errors: [],
        messages: [],
        result: [
          ...models.map((name, i) => ({
            id: `0000-${i}`,
            name,
            description: 'fake model',
            task: { id: 'task-tg', name: 'Text Generation', description: '' },
            created_at: '2024-04-01 00:00:00.000',
            tags: [],
            properties: [],
          })),
          { id: 'emb', name: '@cf/baai/bge-base-en-v1.5', task: { id: 'task-emb', name: 'Text Embeddings' }, created_at: '2024-01-01 00:00:00.000' },
        ],
        result_info: { count: models.length + 1, page: 1, per_page: 1000, total_count: models.length + 1 },
      };
  }
}

function authorised(flavor: Flavor, req: IncomingMessage, key: string): boolean {
  if (flavor === 'anthropic') return req.headers['x-api-key'] === key && req.headers['anthropic-version'] === '2023-06-01';
  return req.headers.authorization === `Bearer ${key}`;
}

function sendAuthError(flavor: Flavor, res: ServerResponse): void {
  if (flavor === 'anthropic') {
    return send(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  }
  if (flavor === 'cloudflare') {
    return send(res, 401, { success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null });
  }
  send(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
