/**
 * The providers the gateway knows, declared as data. Almost every provider speaks OpenAI's chat
 * wire format; what differs is the base URL, how the key travels, where the endpoints are and how
 * the model list is shaped. Adding an OpenAI-compatible vendor is one entry here.
 */
export type AuthStyle = 'bearer' | 'x-api-key';
/**
 * How a provider's embeddings endpoint speaks: OpenAI's format, or a dialect the provider layer
 * translates (embeddings.ts): Mistral (`output_dimension`, no unknown fields), NVIDIA NIM
 * (`input_type` required by its retrieval models), MiniMax (`texts`/`type` → `vectors`).
 */
export type EmbeddingsFormat = 'openai' | 'mistral' | 'nvidia' | 'minimax';

export interface EmbeddingsSpec {
  readonly path: string;
  readonly format: EmbeddingsFormat;
  /** Whether the upstream answers `encoding_format: "base64"`; if not, the gateway asks for floats and encodes. */
  readonly base64: boolean;
}
export type ModelListFormat = 'openai' | 'anthropic' | 'cohere' | 'cloudflare' | 'google';

export interface ProviderSpec {
  readonly id: string;
  readonly name: string;
  /** Prefix of the `<P>_API_URL` / `<P>_API_KEY` variables. */
  readonly envPrefix: string;
  readonly defaultUrl: string;
  readonly auth: AuthStyle;
  /** Keyless providers (self-hosted) count as configured once their URL is set. */
  readonly keyless?: boolean;
  readonly extraHeaders?: Readonly<Record<string, string>>;
  readonly chatPath: string;
  readonly modelsPath: string;
  readonly modelList: ModelListFormat;
  /** Whether the upstream accepts `stream_options.include_usage` (so the last chunk has usage). */
  readonly streamUsage: boolean;
  /** The embeddings endpoint, for providers whose API serves one. */
  readonly embeddings?: EmbeddingsSpec;
  /** Anthropic's Messages API, for providers that serve it themselves (others get it translated to chat). */
  readonly messages?: NativeEndpoint;
  /** OpenAI's Responses API, for providers that serve it themselves (others get it translated to chat). */
  readonly responses?: NativeEndpoint;
  /** OpenAI's images API (`images/generations`), for providers that serve it; `zai` answers URLs only and takes no `n`. */
  readonly images?: NativeEndpoint & { readonly format: 'openai' | 'zai' };
}

export interface NativeEndpoint {
  readonly path: string;
  /** The path is from the URL's origin, not below its base path (e.g. Moonshot's /anthropic next to /v1). */
  readonly fromOrigin?: boolean;
}

const openaiEmbeddings: EmbeddingsSpec = { path: '/embeddings', format: 'openai', base64: true };

const openaiCompatible = {
  auth: 'bearer',
  chatPath: '/chat/completions',
  modelsPath: '/models',
  modelList: 'openai',
  streamUsage: true,
} as const;

export const PROVIDERS: readonly ProviderSpec[] = [
  {
    ...openaiCompatible,
    id: 'openai',
    name: 'OpenAI',
    envPrefix: 'OPENAI',
    defaultUrl: 'https://api.openai.com/v1',
    embeddings: openaiEmbeddings,
    responses: { path: '/responses' },
    images: { path: '/images/generations', format: 'openai' },
  },
  {
    ...openaiCompatible,
    id: 'anthropic',
    name: 'Anthropic',
    envPrefix: 'ANTHROPIC',
    defaultUrl: 'https://api.anthropic.com/v1',
    auth: 'x-api-key',
    extraHeaders: { 'anthropic-version': '2023-06-01' },
    modelList: 'anthropic',
    messages: { path: '/messages' },
  },
  { ...openaiCompatible, id: 'groq', name: 'Groq', envPrefix: 'GROQ', defaultUrl: 'https://api.groq.com/openai/v1', responses: { path: '/responses' } },
  {
    ...openaiCompatible,
    id: 'ollama',
    name: 'Ollama',
    envPrefix: 'OLLAMA',
    defaultUrl: 'http://ollama:8080/v1',
    keyless: true,
    embeddings: openaiEmbeddings,
    messages: { path: '/messages' },
    responses: { path: '/responses' },
  },
  {
    ...openaiCompatible,
    id: 'cohere',
    name: 'Cohere',
    envPrefix: 'COHERE',
    defaultUrl: 'https://api.cohere.ai',
    chatPath: '/compatibility/v1/chat/completions',
    modelsPath: '/v1/models',
    modelList: 'cohere',
    embeddings: { path: '/compatibility/v1/embeddings', format: 'openai', base64: true },
  },
  {
    ...openaiCompatible,
    id: 'cloudflare',
    name: 'Cloudflare Workers AI',
    envPrefix: 'CLOUDFLARE',
    defaultUrl: 'https://api.cloudflare.com/client/v4/accounts/{ACCOUNT_ID}/ai',
    chatPath: '/v1/chat/completions',
    modelsPath: '/models/search?per_page=1000',
    modelList: 'cloudflare',
    embeddings: { path: '/v1/embeddings', format: 'openai', base64: false },
    responses: { path: '/v1/responses' },
  },
  { ...openaiCompatible, id: 'deepseek', name: 'DeepSeek', envPrefix: 'DEEPSEEK', defaultUrl: 'https://api.deepseek.com', messages: { path: '/anthropic/v1/messages', fromOrigin: true } },
  {
    ...openaiCompatible,
    id: 'google',
    name: 'Google Gemini',
    envPrefix: 'GOOGLE',
    defaultUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    modelList: 'google',
    // Gemini's OpenAI layer answers 400 to encoding_format "base64".
    embeddings: { path: '/embeddings', format: 'openai', base64: false },
  },
  {
    ...openaiCompatible,
    id: 'mistral',
    name: 'Mistral',
    envPrefix: 'MISTRAL',
    defaultUrl: 'https://api.mistral.ai/v1',
    embeddings: { path: '/embeddings', format: 'mistral', base64: true },
    responses: { path: '/responses' },
  },
  {
    ...openaiCompatible,
    id: 'ollama_cloud',
    name: 'Ollama Cloud',
    envPrefix: 'OLLAMA_CLOUD',
    defaultUrl: 'https://ollama.com/v1',
    messages: { path: '/messages' },
    responses: { path: '/responses' },
  },
  {
    ...openaiCompatible,
    id: 'moonshot',
    name: 'Moonshot',
    envPrefix: 'MOONSHOT',
    defaultUrl: 'https://api.moonshot.ai/v1',
    messages: { path: '/anthropic/v1/messages', fromOrigin: true },
    responses: { path: '/responses' },
  },
  {
    ...openaiCompatible,
    id: 'minimax',
    name: 'MiniMax',
    envPrefix: 'MINIMAX',
    defaultUrl: 'https://api.minimax.io/v1',
    embeddings: { path: '/embeddings', format: 'minimax', base64: false },
    messages: { path: '/anthropic/v1/messages', fromOrigin: true },
    responses: { path: '/responses' },
  },
  {
    ...openaiCompatible,
    id: 'nvidia',
    name: 'NVIDIA NIM',
    envPrefix: 'NVIDIA',
    defaultUrl: 'https://integrate.api.nvidia.com/v1',
    embeddings: { path: '/embeddings', format: 'nvidia', base64: true },
  },
  {
    ...openaiCompatible,
    id: 'zai',
    name: 'Z.ai',
    envPrefix: 'ZAI',
    defaultUrl: 'https://api.z.ai/api/paas/v4',
    embeddings: { path: '/embeddings', format: 'openai', base64: false },
    messages: { path: '/api/anthropic/v1/messages', fromOrigin: true },
    images: { path: '/images/generations', format: 'zai' },
  },
  // Served when llama-server runs with --embeddings (it answers 501 otherwise, passed on as it is).
  {
    ...openaiCompatible,
    id: 'llamacpp',
    name: 'llama.cpp',
    envPrefix: 'LLAMACPP',
    defaultUrl: 'http://llamacpp:8080/v1',
    keyless: true,
    embeddings: openaiEmbeddings,
    messages: { path: '/messages' },
    responses: { path: '/responses' },
  },
];
