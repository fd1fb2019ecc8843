/**
 * OpenAI chat wire types, as far as the gateway looks into them. Requests keep every field the
 * client sent (providers add their own); only what the gateway reads or writes is typed here.
 */
export interface ChatMessage {
  role: string;
  content?: string | unknown[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: ToolCall[];
  reasoning?: string | null;
  reasoning_content?: string | null;
  [key: string]: unknown;
}

export interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: ChatMessage; finish_reason: string | null; [key: string]: unknown }[];
  usage?: Usage | null;
  [key: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: Partial<ChatMessage> & { tool_calls?: ToolCallDelta[] };
    finish_reason: string | null;
    [key: string]: unknown;
  }[];
  usage?: Usage | null;
  [key: string]: unknown;
}

/** One chunk of a stream: the parsed object, and its wire text so a relay need not re-serialise it. */
export interface StreamChunk {
  readonly chunk: ChatCompletionChunk;
  readonly data: string;
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  served_by: string;
}

/** OpenAI's embeddings request, as far as the gateway reads it (other fields pass through). */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
  user?: string;
  [key: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Floats, or base64 of little-endian float32 when the request asked for base64. */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number; [key: string]: unknown };
  [key: string]: unknown;
}
