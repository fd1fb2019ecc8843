/**
 * Each provider lists its models in its own shape; these turn them into OpenAI's model objects,
 * named `provider/model` so the id routes straight back to the provider that serves it.
 */
import type { ModelListFormat } from './catalog.js';
import type { Model } from './types.js';

type Listing = Record<string, any>;

export function normaliseModels(format: ModelListFormat, provider: string, body: Listing): Model[] {
  const model = (name: string, created: unknown, ownedBy: unknown): Model => ({
    id: `${provider}/${name}`,
    object: 'model',
    created: typeof created === 'number' ? created : typeof created === 'string' ? toUnix(created) : 0,
    owned_by: typeof ownedBy === 'string' && ownedBy !== '' ? ownedBy : provider,
    served_by: provider,
  });
  switch (format) {
    case 'openai':
      return array(body?.data).map((m) => model(String(m.id), m.created, m.owned_by));
    case 'google':
      // Gemini's OpenAI layer lists `models/gemini-…`; chat takes the bare name.
      return array(body?.data).map((m) => model(String(m.id).replace(/^models\//, ''), m.created, m.owned_by ?? 'google'));
    case 'anthropic':
      return array(body?.data).map((m) => model(String(m.id), m.created_at, 'anthropic'));
    case 'cohere':
      // Only models that can chat are useful behind a chat gateway.
      return array(body?.models)
        .filter((m) => !Array.isArray(m.endpoints) || m.endpoints.includes('chat'))
        .map((m) => model(String(m.name), undefined, 'cohere'));
    case 'cloudflare':
      return array(body?.result)
        .filter((m) => !m.task?.name || m.task.name === 'Text Generation')
        .map((m) => model(String(m.name), m.created_at, 'cloudflare'));
  }
}

function array(value: unknown): Listing[] {
  return Array.isArray(value) ? value.filter((v) => v && typeof v === 'object') : [];
}

function toUnix(date: string): number {
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}
