/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** A chat request. Fields map to OpenAI's chat completions request (camelCase here, snake_case upstream). */
export type ChatCompletionInput = {
  /** Provider-specific fields, merged into the upstream request body last, as given (an object). */
  extraBody?: unknown;
  /** -2–2: positive values discourage repeating the same tokens. */
  frequencyPenalty?: number | null | undefined;
  /** Return the log probabilities of the output tokens (`ChatChoice.logprobs`). */
  logprobs?: boolean | null | undefined;
  /** Most tokens to generate, reasoning tokens included. */
  maxCompletionTokens?: number | null | undefined;
  /** Most tokens to generate (older name; reasoning models want maxCompletionTokens). */
  maxTokens?: number | null | undefined;
  /** The conversation so far. */
  messages: Array<ChatMessageInput>;
  /** Key-value tags stored with the completion, where the provider keeps them (an object of strings). */
  metadata?: unknown;
  /** "provider/model", or a bare model name together with `provider`. */
  model: string;
  /** How many alternative answers (choices) to generate. */
  n?: number | null | undefined;
  /** Whether the model may call several tools at once. */
  parallelToolCalls?: boolean | null | undefined;
  /** -2–2: positive values encourage new topics. */
  presencePenalty?: number | null | undefined;
  /** The provider id, when `model` does not name it. */
  provider?: string | null | undefined;
  /** How much a reasoning model thinks first. */
  reasoningEffort?: ReasoningEffort | null | undefined;
  /** Plain text, a JSON object, or JSON following a schema. */
  responseFormat?: ResponseFormatInput | null | undefined;
  /** Ask for repeatable sampling, where the provider supports it. */
  seed?: number | null | undefined;
  /** Up to 4 sequences at which generation stops. */
  stop?: Array<string> | null | undefined;
  /** Sampling temperature, 0–2: higher is more random. */
  temperature?: number | null | undefined;
  /** "auto", "none", "required", or the name of a function to call. */
  toolChoice?: string | null | undefined;
  /** Functions the model may call. */
  tools?: Array<ToolInput> | null | undefined;
  /** With logprobs: how many most likely alternatives per token (0–20). */
  topLogprobs?: number | null | undefined;
  /** Nucleus sampling: only the tokens in the top `topP` probability mass. */
  topP?: number | null | undefined;
  /** An id for your end user, passed to the provider for abuse monitoring. */
  user?: string | null | undefined;
};

/** One message of the conversation. */
export type ChatMessageInput = {
  /** Plain text. Give `content` or `parts`, not both. */
  content?: string | null | undefined;
  /** A name for the speaker, to tell participants of the same role apart. */
  name?: string | null | undefined;
  /** Multimodal content — text, images, audio, files — in order. Give `content` or `parts`, not both. */
  parts?: Array<ContentPartInput> | null | undefined;
  /** Who speaks. */
  role: ChatRole;
  /** For role TOOL: the id of the tool call this message answers. */
  toolCallId?: string | null | undefined;
  /** For role ASSISTANT: the tool calls it made. */
  toolCalls?: Array<ToolCallInput> | null | undefined;
};

export type ChatRole =
  | 'ASSISTANT'
  | 'DEVELOPER'
  | 'SYSTEM'
  | 'TOOL'
  | 'USER';

/** One part of a multimodal message: exactly one of its fields is set. */
export type ContentPartInput =
  {   /** A file. */
  file: FileInput; imageUrl?: never; inputAudio?: never; text?: never; }
  |  { file?: never;   /** An image. */
  imageUrl: ImageUrlInput; inputAudio?: never; text?: never; }
  |  { file?: never; imageUrl?: never;   /** Audio. */
  inputAudio: InputAudioInput; text?: never; }
  |  { file?: never; imageUrl?: never; inputAudio?: never;   /** Text. */
  text: string; };

/** A document (a PDF, say) the model should read: an uploaded file by id, or the file itself. */
export type FileInput = {
  /** The file itself, base64-encoded (as a `data:` URL or bare, as the provider expects). */
  fileData?: string | null | undefined;
  /** The id of a file uploaded to the provider. */
  fileId?: string | null | undefined;
  /** Its name, with fileData. */
  filename?: string | null | undefined;
};

/** A function call an assistant message made. */
export type FunctionCallInput = {
  /** The arguments as a JSON text, as the model produced them. */
  arguments: string;
  /** The function called. */
  name: string;
};

/** A function the model may call. */
export type FunctionInput = {
  /** What it does, for the model to decide when to call it. */
  description?: string | null | undefined;
  /** Its name, as the model will call it. */
  name: string;
  /** JSON Schema of the arguments. */
  parameters?: unknown;
};

/** How closely the model looks at an image (OpenAI `image_url.detail`). */
export type ImageDetail =
  /** The model decides. */
  | 'AUTO'
  /** The full-resolution view. */
  | 'HIGH'
  /** A low-resolution view: fewer tokens. */
  | 'LOW';

/** An image the model should see. */
export type ImageUrlInput = {
  /** Resolution to look at it in; the provider decides when unset. */
  detail?: ImageDetail | null | undefined;
  /** An `https://` URL the provider can fetch, or a `data:image/…;base64,…` URL. */
  url: string;
};

/** Audio the model should hear (OpenAI `input_audio`). */
export type InputAudioInput = {
  /** The audio, base64-encoded. */
  data: string;
  /** Its encoding: "wav", "mp3", … */
  format: string;
};

/** The JSON Schema an answer must follow (OpenAI `response_format.json_schema`). */
export type JsonSchemaFormatInput = {
  /** What the format is for, for the model. */
  description?: string | null | undefined;
  /** A name for the format: letters, digits, _ and -. */
  name: string;
  /** The JSON Schema. */
  schema: unknown;
  /** Follow the schema exactly (OpenAI structured outputs), where the provider can. */
  strict?: boolean | null | undefined;
};

/** How much a reasoning model thinks before it answers (OpenAI `reasoning_effort`); providers support a subset. */
export type ReasoningEffort =
  /** Thorough. */
  | 'HIGH'
  /** Quick. */
  | 'LOW'
  /** The models' usual default. */
  | 'MEDIUM'
  /** As little as the model allows. */
  | 'MINIMAL'
  /** No reasoning. */
  | 'NONE'
  /** As much as the model allows. */
  | 'XHIGH';

/** Ask for plain text, any JSON object, or JSON following a schema. */
export type ResponseFormatInput = {
  /** Required with JSON_SCHEMA, refused otherwise. */
  jsonSchema?: JsonSchemaFormatInput | null | undefined;
  /** Which. */
  type: ResponseFormatType;
};

/** The shape of the answer. */
export type ResponseFormatType =
  /** Some JSON object (tell the model which in the prompt). */
  | 'JSON_OBJECT'
  /** JSON that follows `jsonSchema` (structured outputs). */
  | 'JSON_SCHEMA'
  /** Free text (the default). */
  | 'TEXT';

/** A tool call an assistant message made, given back in the conversation. */
export type ToolCallInput = {
  /** The function and its arguments. */
  function: FunctionCallInput;
  /** The id the model gave the call; the TOOL message answering it names it as toolCallId. */
  id: string | number;
  /** Always "function" today. */
  type: string;
};

/** A tool the model may use. */
export type ToolInput = {
  /** The function. */
  function: FunctionInput;
  /** Always "function" today. */
  type: string;
};

export type ModelsQueryVariables = Exact<{
  provider?: string | null | undefined;
}>;


export type ModelsQuery = { models: Array<{ id: string, name: string, provider: string, ownedBy: string | null, created: number | null }> };

export type ProvidersQueryVariables = Exact<{ [key: string]: never; }>;


export type ProvidersQuery = { providers: Array<{ id: string, name: string, configured: boolean }> };

export type ChatCompletionMutationVariables = Exact<{
  input: ChatCompletionInput;
}>;


export type ChatCompletionMutation = { chatCompletion: { id: string, model: string, provider: string, created: number, choices: Array<{ index: number, finishReason: string | null, message: { role: ChatRole, content: string | null, reasoning: string | null, toolCalls: Array<{ id: string, type: string, function: { name: string, arguments: string } }> | null } }>, usage: { promptTokens: number, completionTokens: number, totalTokens: number } | null } | null };

export type ChatCompletionStreamSubscriptionVariables = Exact<{
  input: ChatCompletionInput;
}>;


export type ChatCompletionStreamSubscription = { chatCompletionStream: { id: string, model: string, provider: string, choices: Array<{ index: number, finishReason: string | null, delta: { role: ChatRole | null, content: string | null, reasoning: string | null, toolCalls: Array<{ index: number, id: string | null, type: string | null, function: { name: string | null, arguments: string | null } | null }> | null } }>, usage: { promptTokens: number, completionTokens: number, totalTokens: number } | null } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { subject: string, clientId: string | null, roles: Array<string>, expiresAt: number | null, claims: unknown } | null };

export type RateLimitQueryVariables = Exact<{ [key: string]: never; }>;


export type RateLimitQuery = { rateLimit: { subject: string, requests: { limit: number, remaining: number, resetSeconds: number } | null, tokens: { limit: number, remaining: number, resetSeconds: number } | null } };

export type UsageFieldsFragment = { promptTokens: number, completionTokens: number, totalTokens: number };

export const UsageFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UsageFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Usage"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"promptTokens"}},{"kind":"Field","name":{"kind":"Name","value":"completionTokens"}},{"kind":"Field","name":{"kind":"Name","value":"totalTokens"}}]}}]} as unknown as DocumentNode<UsageFieldsFragment, unknown>;
export const ModelsDocument = {"__meta__":{"hash":"sha256:820e2ef5cdabc71f8372f26b2595aea84a8ba58da0b6810a07c84a688ab35136"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Models"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"provider"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"models"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"provider"},"value":{"kind":"Variable","name":{"kind":"Name","value":"provider"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"ownedBy"}},{"kind":"Field","name":{"kind":"Name","value":"created"}}]}}]}}]} as unknown as DocumentNode<ModelsQuery, ModelsQueryVariables>;
export const ProvidersDocument = {"__meta__":{"hash":"sha256:a58afb296f8591a822c86e1410da2bd228196788d19f1e130173ea5b8d5a7f18"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Providers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"providers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"configured"}}]}}]}}]} as unknown as DocumentNode<ProvidersQuery, ProvidersQueryVariables>;
export const ChatCompletionDocument = {"__meta__":{"hash":"sha256:f051bc5e5da2d00bf68d1bb957ab6d3eed9d6321a06a47dfcffa71b407e952df"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ChatCompletion"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ChatCompletionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"chatCompletion"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"created"}},{"kind":"Field","name":{"kind":"Name","value":"choices"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"finishReason"}},{"kind":"Field","name":{"kind":"Name","value":"message"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"content"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"toolCalls"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"function"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"arguments"}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UsageFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UsageFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Usage"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"promptTokens"}},{"kind":"Field","name":{"kind":"Name","value":"completionTokens"}},{"kind":"Field","name":{"kind":"Name","value":"totalTokens"}}]}}]} as unknown as DocumentNode<ChatCompletionMutation, ChatCompletionMutationVariables>;
export const ChatCompletionStreamDocument = {"__meta__":{"hash":"sha256:8ac5554482881267be2eddcf80dab3af72c78632c7ccdab584c93e88736a57ac"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ChatCompletionStream"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ChatCompletionInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"chatCompletionStream"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"choices"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"finishReason"}},{"kind":"Field","name":{"kind":"Name","value":"delta"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"content"}},{"kind":"Field","name":{"kind":"Name","value":"reasoning"}},{"kind":"Field","name":{"kind":"Name","value":"toolCalls"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"function"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"arguments"}}]}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UsageFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UsageFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Usage"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"promptTokens"}},{"kind":"Field","name":{"kind":"Name","value":"completionTokens"}},{"kind":"Field","name":{"kind":"Name","value":"totalTokens"}}]}}]} as unknown as DocumentNode<ChatCompletionStreamSubscription, ChatCompletionStreamSubscriptionVariables>;
export const MeDocument = {"__meta__":{"hash":"sha256:5ec3f620ed791dd944621abee14be3103ee2ea5a35689f67896559be2d2861ed"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"roles"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"claims"}}]}}]}}]} as unknown as DocumentNode<MeQuery, MeQueryVariables>;
export const RateLimitDocument = {"__meta__":{"hash":"sha256:1ae6fd7813f79e7cef6c7fdc7a6d351fd6b9fdb877636a860e9ff04132d1f38d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RateLimit"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rateLimit"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"requests"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"limit"}},{"kind":"Field","name":{"kind":"Name","value":"remaining"}},{"kind":"Field","name":{"kind":"Name","value":"resetSeconds"}}]}},{"kind":"Field","name":{"kind":"Name","value":"tokens"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"limit"}},{"kind":"Field","name":{"kind":"Name","value":"remaining"}},{"kind":"Field","name":{"kind":"Name","value":"resetSeconds"}}]}}]}}]}}]} as unknown as DocumentNode<RateLimitQuery, RateLimitQueryVariables>;