/** The GraphQL edge's one error mapper: gateway errors become GraphQL errors with `extensions.code`. */
import { GraphQLError } from 'graphql';
import { GatewayError } from '../errors.js';

export function toGraphQLError(error: unknown): GraphQLError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof GatewayError) {
    return new GraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: original.code, ...original.extensions },
    });
  }
  // Errors graphql-js or Yoga raised themselves (syntax, validation, coercion) are safe and useful as they are.
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    return error;
  }
  return new GraphQLError('Internal server error', {
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
