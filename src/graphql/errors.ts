/** The GraphQL edge's one error mapper: gateway errors become GraphQL errors with `extensions.code`. */
import { GraphQLError } from 'graphql';
import { GatewayError } from '../errors.js';
import { authError, isJwtPluginRefusal } from './auth.js';

export function toGraphQLError(error: unknown): GraphQLError {
  if (isJwtPluginRefusal(error)) return authError(error);
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof GatewayError) {
    return new GraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: original.code, ...original.extensions },
    });
  }
  // Yoga JSON.parse()s the `variables`/`extensions` request parameters without a guard.
  if (original instanceof SyntaxError) {
    return new GraphQLError(`Request parameter is not valid JSON: ${original.message}`, {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
  }
  // Errors graphql-js or Yoga raised themselves (syntax, validation, coercion) are safe and useful as they are;
  // refused variables are the caller's input, and say so in their code as every other bad input does.
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    return isRefusedVariable(error) ? withCode(error, 'BAD_USER_INPUT') : error;
  }
  return new GraphQLError('Internal server error', {
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/** graphql-js's variable coercion errors ("Variable "$input" got invalid value …"). */
function isRefusedVariable(error: GraphQLError): boolean {
  return !error.extensions?.code && !error.path && error.message.startsWith('Variable "$');
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

function originalOf(error: unknown): unknown {
  return error instanceof GraphQLError ? (error.originalError ?? error) : error;
}

/** Whether an error Yoga reports is the client's doing (a GatewayError below 500, or bad JSON). */
export function isClientError(error: unknown): boolean {
  if (isJwtPluginRefusal(error)) return true;
  const original = originalOf(error);
  if (original instanceof GatewayError) return original.status < 500;
  return original instanceof SyntaxError;
}

/** Whether it is a provider's failure, relayed on purpose (logged where it happens, not as our bug). */
export function isUpstreamError(error: unknown): boolean {
  const original = originalOf(error);
  return original instanceof GatewayError && (original.code.startsWith('UPSTREAM') || original.code === 'SERVICE_UNAVAILABLE');
}
