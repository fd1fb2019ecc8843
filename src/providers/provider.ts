/**
 * The provider contract, and the one implementation that serves every provider speaking OpenAI's
 * chat wire format (all of ours; see catalog.ts for what differs between them).
 */
import type { ProviderConfig } from '../config.js';
import { UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError } from '../errors.js';
import { discard, parseSse, settle } from '../sse.js';
import type { NativeEndpoint, ProviderSpec } from './catalog.js';
import { normaliseModels } from './model-lists.js';
import { embeddingsBody, embeddingsResponse } from './embeddings.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, Model, StreamChunk } from './types.js';
import { Upstream, upstreamMessage, type UpstreamResponse, type UpstreamTimeouts } from './upstream.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };

export interface NativeOptions {
  readonly anthropic?: boolean;
  readonly headers?: Record<string, string>;
}

/** One event of a provider's own SSE stream (Messages, Responses), relayed as it came. */
export interface NativeEvent {
  readonly event: string;
  readonly data: string;
  readonly parsed: Record<string, any>;
}

export class Provider {
  readonly id: string;
  readonly spec: ProviderSpec;
  readonly configured: boolean;
  readonly upstream: Upstream;

  constructor(config: ProviderConfig, timeouts: UpstreamTimeouts) {
    this.id = config.spec.id;
    this.spec = config.spec;
    this.configured = config.configured;
    this.upstream = new Upstream(config, timeouts);
  }

  async listModels(signal?: AbortSignal): Promise<Model[]> {
    const { body } = await this.upstream.json<Record<string, unknown>>({
      method: 'GET',
      path: this.spec.modelsPath,
      headers: { accept: 'application/json' },
      signal,
    });
    return normaliseModels(this.spec.modelList, this.id, body);
  }

  /**
   * `model` is the provider's own model name (no `provider/` prefix); it replaces the request's in the
   * one body built for the upstream. Returns the completion and its wire text, which the REST relay
   * sends on unchanged rather than serialising it again.
   */
  async chat(request: ChatRequest, model: string, signal?: AbortSignal): Promise<{ completion: ChatCompletion; raw: string }> {
    const { body: completion, text: raw } = await this.upstream.json<ChatCompletion>({
      method: 'POST',
      path: this.spec.chatPath,
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...request, model, stream: false }),
      signal,
    });
    if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices)) {
      throw new UpstreamUnavailableError(this.id, 'upstream answered without choices');
    }
    return { completion, raw };
  }

  /**
   * Embeddings, in the provider's dialect (embeddings.ts) and answered in OpenAI's format; `raw` is
   * the upstream's own text when it is already that answer, for the REST relay to send unchanged.
   * Only for providers whose spec has `embeddings` (the gateway checks).
   */
  async embeddings(request: EmbeddingsRequest, model: string, signal?: AbortSignal): Promise<{ response: EmbeddingsResponse; raw?: string }> {
    const spec = this.spec.embeddings!;
    const encode = request.encoding_format === 'base64' && !spec.base64;
    const { body, text } = await this.upstream.json<unknown>({
      method: 'POST',
      path: spec.path,
      headers: JSON_HEADERS,
      body: JSON.stringify(embeddingsBody(spec, request, model)),
      signal,
    });
    const response = embeddingsResponse(this.id, spec, body, model, encode);
    return { response, raw: response === body && !encode ? text : undefined };
  }

  /**
   * Another API this provider serves itself (catalog.ts: Messages, Responses, images): the body goes
   * as given, the answer comes back parsed and as its text (for the REST relay to send unchanged).
   * `anthropic` adds Anthropic-style credentials; `headers` the client's own that the API needs.
   */
  async native(endpoint: NativeEndpoint, body: Record<string, unknown>, signal?: AbortSignal, options: NativeOptions = {}): Promise<{ body: Record<string, any>; raw: string }> {
    const { body: answer, text } = await this.upstream.json<Record<string, any>>({
      method: 'POST',
      path: endpoint.path,
      fromOrigin: endpoint.fromOrigin,
      anthropicAuth: options.anthropic,
      headers: { ...JSON_HEADERS, ...options.headers },
      body: JSON.stringify(body),
      signal,
    });
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) throw new UpstreamUnavailableError(this.id, 'upstream answered with something that is not a JSON object');
    return { body: answer, raw: text };
  }

  /** Such an API's stream, event by event. */
  async nativeStream(endpoint: NativeEndpoint, body: Record<string, unknown>, signal?: AbortSignal, options: NativeOptions = {}): Promise<AsyncGenerator<NativeEvent>> {
    const res = await this.upstream.open({
      method: 'POST',
      path: endpoint.path,
      fromOrigin: endpoint.fromOrigin,
      anthropicAuth: options.anthropic,
      headers: { ...SSE_HEADERS, ...options.headers },
      body: JSON.stringify(body),
      signal,
    });
    return this.events(res, signal);
  }

  /** Relays a native SSE stream event by event (parsed once, for usage and for the relay's checks). */
  private async *events(res: UpstreamResponse, signal?: AbortSignal): AsyncGenerator<NativeEvent> {
    try {
      for await (const event of parseSse(res.body)) {
        let data: Record<string, any>;
        try {
          data = JSON.parse(event.data);
        } catch {
          throw new UpstreamUnavailableError(this.id, 'upstream sent a malformed stream event');
        }
        yield { event: event.event ?? data?.type ?? 'message', data: event.data, parsed: data };
      }
    } catch (error) {
      throw this.upstream.translate(error, signal);
    } finally {
      discard(res.body);
    }
  }

  /**
   * Starts a streamed completion. Resolves once the upstream has accepted it (so refusals are
   * ordinary errors, before any byte reaches the client), then yields chunks in upstream order.
   */
  async chatStream(request: ChatRequest, model: string, signal?: AbortSignal): Promise<AsyncGenerator<StreamChunk>> {
    const body: ChatRequest = { ...request, model, stream: true };
    if (this.spec.streamUsage) body.stream_options = { ...request.stream_options, include_usage: true };
    const res = await this.upstream.open({
      method: 'POST',
      path: this.spec.chatPath,
      headers: SSE_HEADERS,
      body: JSON.stringify(body),
      signal,
    });
    return this.chunks(res, signal);
  }

  private async *chunks(res: UpstreamResponse, signal?: AbortSignal): AsyncGenerator<StreamChunk> {
    let finished = false;
    let done = false;
    const { maxStreamDurationMs } = this.upstream.timeouts;
    const deadline = maxStreamDurationMs > 0 ? performance.now() + maxStreamDurationMs : Infinity;
    try {
      for await (const event of parseSse(res.body)) {
        if (performance.now() > deadline) throw new UpstreamTimeoutError(this.id, maxStreamDurationMs, 'stream ran longer than');
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        if (event.event === 'error') throw this.streamError(event.data);
        let chunk: ChatCompletionChunk;
        try {
          chunk = JSON.parse(event.data) as ChatCompletionChunk;
        } catch {
          throw new UpstreamUnavailableError(this.id, 'upstream sent a malformed stream chunk');
        }
        if (chunk && typeof chunk === 'object' && 'error' in chunk && !('choices' in chunk)) {
          throw this.streamError(event.data);
        }
        if (!chunk || !Array.isArray(chunk.choices)) {
          throw new UpstreamUnavailableError(this.id, 'upstream sent a stream chunk without choices');
        }
        if (chunk.choices.some((c) => c.finish_reason)) finished = true;
        yield { chunk, data: event.data };
      }
    } catch (error) {
      throw this.upstream.translate(error, signal);
    } finally {
      // Leaving early (client gone, consumer stopped) must release the upstream connection; after
      // [DONE] the body is read to its end instead (the connection stays reusable).
      if (done) settle(res.body);
      else discard(res.body);
    }
    // Some upstreams omit [DONE]; a finish reason still proves the answer is whole.
    if (!finished) throw new UpstreamUnavailableError(this.id, 'stream ended before the completion finished');
  }

  private streamError(data: string): UpstreamError {
    let status = 502;
    try {
      const parsed = JSON.parse(data);
      const code = Number(parsed?.error?.code ?? parsed?.status);
      if (Number.isInteger(code) && code >= 400 && code < 600) status = code;
    } catch {
      // Not JSON: keep 502 and the text as the message.
    }
    return new UpstreamError(this.id, status, upstreamMessage(data, status));
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
