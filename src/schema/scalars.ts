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

/** ISO-8601 date-time with a time zone (`2026-11-30T00:00:00Z`); answers in UTC. */
export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time with a time zone, e.g. "2026-11-30T00:00:00Z"; answered in UTC.',
  serialize: (value) => new Date(value as string | number | Date).toISOString(),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === 'StringValue' ? ast.value : undefined),
});

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' && ISO.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO-8601 date-time with a time zone, e.g. "2026-11-30T00:00:00Z" (got ${JSON.stringify(value)?.slice(0, 40)})`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}
