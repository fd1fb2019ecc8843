/**
 * POST /v1/embeddings: OpenAI's embeddings endpoint for every provider that serves embeddings, in
 * OpenAI's format both ways (the provider layer translates dialects). An OpenAI-format answer is
 * relayed as the provider's own bytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError } from '../errors.js';
import type { CallContext, Gateway } from '../gateway.js';
import { exceedsDepth, MAX_JSON_DEPTH } from '../json-limits.js';
import { MAX_EMBEDDING_INPUTS } from '../providers/embeddings.js';
import type { EmbeddingsRequest } from '../providers/types.js';
import { targetHeaders } from './call-headers.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

export async function embeddings(gateway: Gateway, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, maxBody: number, ctx: CallContext): Promise<void> {
  const request = validateEmbeddingsRequest(parseJsonBody(await readBody(req, maxBody)));
  const { raw, response, record } = await gateway.embeddings(request, query.get('provider'), ctx);
  sendJson(res, 200, raw ?? response, targetHeaders(record));
}

export function validateEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('Request body must be a JSON object with model and input');
  if (exceedsDepth(body)) throw new BadRequestError(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model.trim() === '') {
    throw new BadRequestError("'model' must be a non-empty string, e.g. \"openai/text-embedding-3-small\"");
  }
  const { input } = request;
  const inputs = Array.isArray(input) ? input : [input];
  const text = inputs.every((i) => typeof i === 'string');
  const tokens = inputs.every((i) => Number.isInteger(i)) || inputs.every((i) => Array.isArray(i) && i.length > 0 && i.every(Number.isInteger));
  if (inputs.length === 0 || !(text || tokens)) {
    throw new BadRequestError("'input' must be a string or a non-empty array of strings (or of token ids)");
  }
  if (inputs.length > MAX_EMBEDDING_INPUTS) throw new BadRequestError(`'input' has ${inputs.length} entries; the limit is ${MAX_EMBEDDING_INPUTS}`);
  if (text && inputs.some((i) => i === '')) throw new BadRequestError("'input' must not contain empty strings");
  if (request.dimensions !== undefined && !(Number.isInteger(request.dimensions) && (request.dimensions as number) > 0)) {
    throw new BadRequestError("'dimensions' must be a positive integer");
  }
  if (request.encoding_format !== undefined && request.encoding_format !== 'float' && request.encoding_format !== 'base64') {
    throw new BadRequestError(`'encoding_format' must be "float" or "base64"`);
  }
  return request as EmbeddingsRequest;
}
