/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Models($provider: String) {\n  models(provider: $provider) {\n    id\n    name\n    provider\n    ownedBy\n    created\n  }\n}\n\nquery Providers {\n  providers {\n    id\n    name\n    configured\n  }\n}\n\nmutation ChatCompletion($input: ChatCompletionInput!) {\n  chatCompletion(input: $input) {\n    id\n    model\n    provider\n    created\n    choices {\n      index\n      finishReason\n      message {\n        role\n        content\n        reasoning\n        toolCalls {\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nsubscription ChatCompletionStream($input: ChatCompletionInput!) {\n  chatCompletionStream(input: $input) {\n    id\n    model\n    provider\n    choices {\n      index\n      finishReason\n      delta {\n        role\n        content\n        reasoning\n        toolCalls {\n          index\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    subject\n    clientId\n    roles\n    expiresAt\n    claims\n  }\n}\n\nquery RateLimit {\n  rateLimit {\n    subject\n    requests {\n      limit\n      remaining\n      resetSeconds\n    }\n    tokens {\n      limit\n      remaining\n      resetSeconds\n    }\n  }\n}\n\nfragment UsageFields on Usage {\n  promptTokens\n  completionTokens\n  totalTokens\n}": typeof types.ModelsDocument,
};
const documents: Documents = {
    "query Models($provider: String) {\n  models(provider: $provider) {\n    id\n    name\n    provider\n    ownedBy\n    created\n  }\n}\n\nquery Providers {\n  providers {\n    id\n    name\n    configured\n  }\n}\n\nmutation ChatCompletion($input: ChatCompletionInput!) {\n  chatCompletion(input: $input) {\n    id\n    model\n    provider\n    created\n    choices {\n      index\n      finishReason\n      message {\n        role\n        content\n        reasoning\n        toolCalls {\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nsubscription ChatCompletionStream($input: ChatCompletionInput!) {\n  chatCompletionStream(input: $input) {\n    id\n    model\n    provider\n    choices {\n      index\n      finishReason\n      delta {\n        role\n        content\n        reasoning\n        toolCalls {\n          index\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    subject\n    clientId\n    roles\n    expiresAt\n    claims\n  }\n}\n\nquery RateLimit {\n  rateLimit {\n    subject\n    requests {\n      limit\n      remaining\n      resetSeconds\n    }\n    tokens {\n      limit\n      remaining\n      resetSeconds\n    }\n  }\n}\n\nfragment UsageFields on Usage {\n  promptTokens\n  completionTokens\n  totalTokens\n}": types.ModelsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Models($provider: String) {\n  models(provider: $provider) {\n    id\n    name\n    provider\n    ownedBy\n    created\n  }\n}\n\nquery Providers {\n  providers {\n    id\n    name\n    configured\n  }\n}\n\nmutation ChatCompletion($input: ChatCompletionInput!) {\n  chatCompletion(input: $input) {\n    id\n    model\n    provider\n    created\n    choices {\n      index\n      finishReason\n      message {\n        role\n        content\n        reasoning\n        toolCalls {\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nsubscription ChatCompletionStream($input: ChatCompletionInput!) {\n  chatCompletionStream(input: $input) {\n    id\n    model\n    provider\n    choices {\n      index\n      finishReason\n      delta {\n        role\n        content\n        reasoning\n        toolCalls {\n          index\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    subject\n    clientId\n    roles\n    expiresAt\n    claims\n  }\n}\n\nquery RateLimit {\n  rateLimit {\n    subject\n    requests {\n      limit\n      remaining\n      resetSeconds\n    }\n    tokens {\n      limit\n      remaining\n      resetSeconds\n    }\n  }\n}\n\nfragment UsageFields on Usage {\n  promptTokens\n  completionTokens\n  totalTokens\n}"): (typeof documents)["query Models($provider: String) {\n  models(provider: $provider) {\n    id\n    name\n    provider\n    ownedBy\n    created\n  }\n}\n\nquery Providers {\n  providers {\n    id\n    name\n    configured\n  }\n}\n\nmutation ChatCompletion($input: ChatCompletionInput!) {\n  chatCompletion(input: $input) {\n    id\n    model\n    provider\n    created\n    choices {\n      index\n      finishReason\n      message {\n        role\n        content\n        reasoning\n        toolCalls {\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nsubscription ChatCompletionStream($input: ChatCompletionInput!) {\n  chatCompletionStream(input: $input) {\n    id\n    model\n    provider\n    choices {\n      index\n      finishReason\n      delta {\n        role\n        content\n        reasoning\n        toolCalls {\n          index\n          id\n          type\n          function {\n            name\n            arguments\n          }\n        }\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n}\n\nquery Me {\n  me {\n    subject\n    clientId\n    roles\n    expiresAt\n    claims\n  }\n}\n\nquery RateLimit {\n  rateLimit {\n    subject\n    requests {\n      limit\n      remaining\n      resetSeconds\n    }\n    tokens {\n      limit\n      remaining\n      resetSeconds\n    }\n  }\n}\n\nfragment UsageFields on Usage {\n  promptTokens\n  completionTokens\n  totalTokens\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;