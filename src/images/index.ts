/**
 * Image generation: OpenAI's images API (`images/generations`) for the providers that serve it
 * (catalog.ts `images`), through the gateway core like every call. Z.ai's CogView answers URLs only
 * and takes no `n` or `response_format`: those are checked and left out for it.
 */
import { BadRequestError, UpstreamUnavailableError } from '../errors.js';
import type { CallContext, Gateway } from '../gateway.js';
import { PROVIDERS } from '../providers/catalog.js';
import type { Usage } from '../providers/types.js';

export type ImagesRequest = Record<string, unknown> & { model: string; prompt: string };

export interface GeneratedImages {
  created: number;
  data: { b64_json?: string; url?: string; revised_prompt?: string }[];
  usage?: Record<string, unknown>;
  [key: string]: unknown;
}

export function validateImagesRequest(body: unknown): ImagesRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('Request body must be a JSON object with model and prompt');
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model.trim() === '') throw new BadRequestError("'model' must be a non-empty string, e.g. \"openai/gpt-image-1\"");
  if (typeof request.prompt !== 'string' || request.prompt.trim() === '') throw new BadRequestError("'prompt' must be a non-empty string");
  if (request.n !== undefined && !(Number.isInteger(request.n) && (request.n as number) >= 1 && (request.n as number) <= 10)) throw new BadRequestError("'n' must be an integer from 1 to 10");
  for (const field of ['size', 'quality', 'response_format', 'style', 'background', 'output_format']) {
    if (request[field] !== undefined && typeof request[field] !== 'string') throw new BadRequestError(`'${field}' must be a string`);
  }
  return request as ImagesRequest;
}

export async function generateImages(gateway: Gateway, request: ImagesRequest, providerId: string | null | undefined, ctx: CallContext) {
  const { alias, routes: all } = gateway.targets(request.model, providerId, ctx.identity);
  const routes = all.filter((r) => r.provider.spec.images);
  if (routes.length === 0) {
    const serving = PROVIDERS.filter((p) => p.images).map((p) => p.id);
    const which = alias ? `No target of alias '${alias}' serves` : `Provider '${all[0]!.provider.id}' does not serve`;
    throw new BadRequestError(`${which} image generation. Providers that do: ${serving.join(', ')}`);
  }
  const { route, result, record } = await gateway.call(
    'image_generation',
    routes,
    alias,
    ctx,
    async (r) => {
      const endpoint = r.provider.spec.images!;
      let body: Record<string, unknown> = { ...request, model: r.model };
      if (endpoint.format === 'zai') {
        if (request.response_format === 'b64_json') throw new BadRequestError(`Provider '${r.provider.id}' answers image URLs only: leave out response_format or ask for "url"`);
        if (request.n !== undefined && request.n !== 1) throw new BadRequestError(`Provider '${r.provider.id}' makes one image per request: leave out n or send 1`);
        const { n: _n, response_format: _format, ...rest } = body;
        body = rest;
      }
      const { body: answer, raw } = await r.provider.native(endpoint, body, ctx.signal);
      if (!Array.isArray(answer.data)) throw new UpstreamUnavailableError(r.provider.id, 'upstream answered without images');
      return { images: answer as GeneratedImages, raw };
    },
    (answer) => imageUsage(answer.images.usage),
    request,
  );
  return { provider: route.provider, model: route.model, images: result.images, raw: result.raw, record };
}

/** gpt-image models report input/output tokens; DALL·E and others nothing. */
function imageUsage(usage: Record<string, unknown> | undefined): Partial<Usage> | undefined {
  if (!usage) return undefined;
  const input = Number(usage.input_tokens) || 0;
  const output = Number(usage.output_tokens) || 0;
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}
