/**
 * Embeddings in each provider's dialect (catalog.ts says which). Requests arrive and answers leave
 * in OpenAI's format; most providers speak it, and these three need translating:
 * - Mistral: `dimensions` is `output_dimension`; unknown fields (`user`) are refused, so not sent.
 * - NVIDIA NIM: its retrieval models refuse a request without `input_type`; "query" unless given.
 * - MiniMax: `{model, texts, type: "db"|"query"}` → `{vectors, total_tokens, base_resp}`, where a
 *   failure may come as HTTP 200 with `base_resp.status_code` ≠ 0.
 * Providers that cannot answer base64 get asked for floats, and the gateway encodes them.
 */
import { UpstreamError, UpstreamUnavailableError } from '../errors.js';
import type { EmbeddingsSpec } from './catalog.js';
import type { Embedding, EmbeddingsRequest, EmbeddingsResponse } from './types.js';

/** OpenAI's own limit on inputs per request, applied on both edges. */
export const MAX_EMBEDDING_INPUTS = 2048;

/** The upstream body for `request`, with the provider's own model name. */
export function embeddingsBody(spec: EmbeddingsSpec, request: EmbeddingsRequest, model: string): Record<string, unknown> {
  const wantsBase64 = request.encoding_format === 'base64';
  switch (spec.format) {
    case 'minimax': {
      const { input, type } = request;
      return { model, texts: Array.isArray(input) ? input : [input], type: typeof type === 'string' ? type : 'db' };
    }
    case 'mistral': {
      const { dimensions, user: _user, encoding_format, ...rest } = request;
      const body: Record<string, unknown> = { ...rest, model };
      if (dimensions !== undefined) body.output_dimension = dimensions;
      if (encoding_format !== undefined) body.encoding_format = encoding_format;
      return body;
    }
    case 'nvidia':
      return { ...request, model, input_type: request.input_type ?? 'query' };
    case 'openai': {
      const body: Record<string, unknown> = { ...request, model };
      if (wantsBase64 && !spec.base64) body.encoding_format = 'float';
      return body;
    }
  }
}

/**
 * The upstream answer as OpenAI's response; `encode` converts float vectors to base64 (the caller
 * asked for base64 from a provider that answers floats only). Throws when the answer is not one.
 */
export function embeddingsResponse(providerId: string, spec: EmbeddingsSpec, body: unknown, model: string, encode: boolean): EmbeddingsResponse {
  const answer = body as Record<string, any> | null;
  if (!answer || typeof answer !== 'object') throw malformed(providerId);
  let response: EmbeddingsResponse;
  if (spec.format === 'minimax') {
    const status = answer.base_resp?.status_code;
    if (typeof status === 'number' && status !== 0) {
      throw new UpstreamError(providerId, minimaxStatus(status), String(answer.base_resp?.status_msg ?? `error ${status}`));
    }
    if (!Array.isArray(answer.vectors)) throw malformed(providerId);
    const tokens = Number(answer.total_tokens) || 0;
    response = {
      object: 'list',
      data: answer.vectors.map((vector: unknown, index: number): Embedding => ({ object: 'embedding', index, embedding: vector as number[] })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  } else {
    if (!Array.isArray(answer.data)) throw malformed(providerId);
    response = answer as EmbeddingsResponse;
  }
  for (const item of response.data) {
    if (!item || (typeof item.embedding !== 'string' && !Array.isArray(item.embedding))) throw malformed(providerId);
    if (encode && Array.isArray(item.embedding)) item.embedding = toBase64(item.embedding);
  }
  return response;
}

/** As OpenAI encodes it: the vector as little-endian float32, base64. */
export function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

/** Float vectors from either encoding (GraphQL always answers floats). */
export function toFloats(embedding: number[] | string): number[] {
  if (Array.isArray(embedding)) return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  const out = new Array<number>(bytes.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

const malformed = (providerId: string) => new UpstreamUnavailableError(providerId, 'upstream answered without embeddings');

/** MiniMax's own status codes, as the HTTP statuses they mean. */
function minimaxStatus(code: number): number {
  if (code === 1004 || code === 2049) return 401; // authentication failed / invalid key
  if (code === 1002 || code === 1039) return 429; // rate limited / token limit
  if (code === 1008) return 402; // insufficient balance
  if (code === 2013) return 400; // invalid parameters
  return 502;
}
