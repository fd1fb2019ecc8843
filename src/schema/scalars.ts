import { GraphQLError, valueFromASTUntyped } from 'graphql';
import { exceedsDepth, MAX_JSON_DEPTH } from '../json-limits.js';
import { builder } from './builder.js';

/** Refuses JSON too deep to forward (see json-limits.ts) as bad input, not as an internal error. */
function checked(value: unknown): unknown {
  if (exceedsDepth(value)) {
    throw new GraphQLError(`JSON value is nested deeper than ${MAX_JSON_DEPTH} levels`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

export const JSONScalar = builder.scalarType('JSON', {
  description: "Any JSON value (used for a tool's JSON-Schema parameters).",
  serialize: (value) => value,
  parseValue: (value) => checked(value),
  parseLiteral: (ast, variables) => checked(valueFromASTUntyped(ast, variables)),
});
