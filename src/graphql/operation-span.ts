/**
 * Names a GraphQL request's SERVER span after its operation — `mutation chatCompletion`,
 * `subscription ChatStream` — with `graphql.operation.type` and `graphql.operation.name` (never the
 * document: it may carry prompt text inline). In the plugin list only when tracing is on.
 */
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/builder.js';

export function useOperationSpan(): Plugin<GraphQLContext> {
  return {
    onExecute: ({ args }) => nameSpan(args.contextValue, args.document, args.operationName),
    onSubscribe: ({ args }) => nameSpan(args.contextValue, args.document, args.operationName),
  };
}

export function nameSpan(context: GraphQLContext, document: DocumentNode, operationName: string | null | undefined): void {
  const span = context.span;
  if (!span) return;
  const operation = getOperationAST(document, operationName);
  if (!operation) return;
  const name = operation.name?.value;
  span.setAttribute('graphql.operation.type', operation.operation);
  if (name) span.setAttribute('graphql.operation.name', name);
  // An anonymous operation is named after its first root field, as in `mutation chatCompletion`.
  const first = operation.selectionSet.selections.find((s) => s.kind === 'Field');
  const label = name ?? (first?.kind === 'Field' ? first.name.value : undefined);
  span.updateName(label ? `${operation.operation} ${label}` : operation.operation);
}
