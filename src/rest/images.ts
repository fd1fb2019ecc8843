/** POST /v1/images/generations: OpenAI's images API, for the providers that serve it (src/images/). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallContext, Gateway } from '../gateway.js';
import { generateImages, validateImagesRequest } from '../images/index.js';
import { targetHeaders } from './call-headers.js';
import { parseJsonBody, readBody, sendJson } from './http.js';

export async function imageGenerations(gateway: Gateway, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, maxBody: number, ctx: CallContext): Promise<void> {
  const request = validateImagesRequest(parseJsonBody(await readBody(req, maxBody)));
  const { images, raw, record } = await generateImages(gateway, request, query.get('provider'), ctx);
  sendJson(res, 200, raw ?? images, targetHeaders(record));
}
