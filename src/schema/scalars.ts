import { valueFromASTUntyped } from 'graphql';
import { builder } from './builder.js';

export const JSONScalar = builder.scalarType('JSON', {
  description: 'Any JSON value (used for a tool\'s JSON-Schema parameters).',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});
