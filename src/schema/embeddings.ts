/** `Mutation.embeddings`: vectors for texts, from every provider that serves embeddings. */
import { BadRequestError } from '../errors.js';
import { MAX_EMBEDDING_INPUTS, toFloats } from '../providers/embeddings.js';
import type { Embedding, EmbeddingsResponse } from '../providers/types.js';
import { builder } from './builder.js';

const EmbeddingsInput = builder.inputType('EmbeddingsInput', {
  description: 'Texts to embed.',
  fields: (t) => ({
    model: t.string({ required: true, description: '"provider/model" (e.g. "openai/text-embedding-3-small"), or a bare model name with `provider`.' }),
    provider: t.string({ description: 'The provider id, when `model` does not name it.' }),
    input: t.stringList({ required: true, description: `The texts, up to ${MAX_EMBEDDING_INPUTS}; one vector each, in order.` }),
    dimensions: t.int({ description: 'Length of the vectors, for models that can shorten them (OpenAI text-embedding-3, Mistral codestral-embed, …).' }),
  }),
});

const EmbeddingRef = builder.objectRef<Embedding>('Embedding').implement({
  description: 'The vector of one input.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Which input (position in `input`).' }),
    vector: t.floatList({ description: 'The embedding.', resolve: (e) => toFloats(e.embedding) }),
  }),
});

const EmbeddingsUsageRef = builder.objectRef<NonNullable<EmbeddingsResponse['usage']>>('EmbeddingsUsage').implement({
  description: 'Tokens the input took, as the provider counted them.',
  fields: (t) => ({
    promptTokens: t.int({ description: 'Tokens of the input.', resolve: (u) => Number(u.prompt_tokens) || 0 }),
    totalTokens: t.int({ description: 'The same (embeddings generate no tokens).', resolve: (u) => Number(u.total_tokens) || Number(u.prompt_tokens) || 0 }),
  }),
});

interface EmbeddingsResult {
  response: EmbeddingsResponse;
  provider: string;
  model: string;
}

const EmbeddingsRef = builder.objectRef<EmbeddingsResult>('Embeddings').implement({
  description: 'Embeddings of the inputs.',
  fields: (t) => ({
    model: t.string({ description: 'The model that embedded them, as the provider names it.', resolve: (r) => (typeof r.response.model === 'string' ? r.response.model : r.model) }),
    provider: t.string({ description: 'The provider that served them (after any fallback).', resolve: (r) => r.provider }),
    data: t.field({ type: [EmbeddingRef], description: 'One vector per input, in input order.', resolve: (r) => [...r.response.data].sort((a, b) => a.index - b.index) }),
    usage: t.field({ type: EmbeddingsUsageRef, nullable: true, description: 'Tokens used, when the provider reports them.', resolve: (r) => r.response.usage ?? null }),
  }),
});

builder.mutationField('embeddings', (t) =>
  t.field({
    type: EmbeddingsRef,
    // Nullable: in a document with several aliased calls, one failure leaves the others' answers in data.
    nullable: true,
    description: 'Embeddings for texts, from any provider that serves them (others answer BAD_USER_INPUT naming those that do).',
    args: { input: t.arg({ type: EmbeddingsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.input.length === 0) throw new BadRequestError('input must not be empty');
      if (input.input.length > MAX_EMBEDDING_INPUTS) throw new BadRequestError(`input has ${input.input.length} entries; the limit is ${MAX_EMBEDDING_INPUTS}`);
      if (input.input.some((text) => text === '')) throw new BadRequestError('input must not contain empty strings');
      if (input.dimensions != null && input.dimensions <= 0) throw new BadRequestError('dimensions must be a positive integer');
      const request = { model: input.model, input: input.input, encoding_format: 'float' as const, ...(input.dimensions != null && { dimensions: input.dimensions }) };
      const { provider, model, response } = await ctx.gateway.embeddings(request, input.provider, ctx);
      return { provider: provider.id, model, response };
    },
  }),
);
