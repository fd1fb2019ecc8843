/** `Mutation.imageGeneration`: images from a prompt, for the providers that serve OpenAI's images API. */
import { generateImages, validateImagesRequest, type GeneratedImages } from '../images/index.js';
import { builder } from './builder.js';

const ImageGenerationInput = builder.inputType('ImageGenerationInput', {
  description: 'What to draw.',
  fields: (t) => ({
    model: t.string({ required: true, description: '"provider/model", e.g. "openai/gpt-image-1", or a bare model with `provider`.' }),
    provider: t.string({ description: 'The provider id, when `model` does not name it.' }),
    prompt: t.string({ required: true, description: 'A description of the image.' }),
    n: t.int({ description: 'How many images (1–10; some providers make one per request).' }),
    size: t.string({ description: 'e.g. "1024x1024", "1536x1024", "auto" — as the model accepts.' }),
    quality: t.string({ description: 'e.g. "low", "medium", "high", "hd", "standard" — as the model accepts.' }),
  }),
});

type Image = GeneratedImages['data'][number];

const GeneratedImageRef = builder.objectRef<Image>('GeneratedImage').implement({
  description: 'One image: its bytes (base64) or a URL to fetch it from, as the provider answers.',
  fields: (t) => ({
    b64Json: t.string({ nullable: true, description: 'The image, base64-encoded (PNG unless the model says otherwise).', resolve: (i) => i.b64_json ?? null }),
    url: t.string({ nullable: true, description: 'Where to fetch it (providers keep these for a limited time).', resolve: (i) => i.url ?? null }),
    revisedPrompt: t.string({ nullable: true, description: 'The prompt as the model rewrote it, when it did.', resolve: (i) => i.revised_prompt ?? null }),
  }),
});

const ImageGenerationRef = builder.objectRef<GeneratedImages>('ImageGeneration').implement({
  description: 'Generated images.',
  fields: (t) => ({
    created: t.int({ description: 'Unix seconds.', resolve: (g) => (Number.isInteger(g.created) ? g.created : Math.floor(Date.now() / 1000)) }),
    images: t.field({ type: [GeneratedImageRef], description: 'The images, in order.', resolve: (g) => g.data }),
  }),
});

builder.mutationField('imageGeneration', (t) =>
  t.field({
    type: ImageGenerationRef,
    nullable: true,
    description: 'Images from a prompt, from a provider that serves image generation (others answer BAD_USER_INPUT naming those that do).',
    args: { input: t.arg({ type: ImageGenerationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const request: Record<string, unknown> & { model: string; prompt: string } = { model: input.model, prompt: input.prompt };
      if (input.n != null) request.n = input.n;
      if (input.size != null) request.size = input.size;
      if (input.quality != null) request.quality = input.quality;
      const { images } = await generateImages(ctx.gateway, validateImagesRequest(request), input.provider, ctx);
      return images;
    },
  }),
);
