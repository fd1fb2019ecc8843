/** The GraphQL edge's one error mapper, case by case: what a client sees for each kind of failure. */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BadRequestError, ClientGoneError, UpstreamError, UpstreamTimeoutError } from '../src/errors.js';
import { isClientError, isUpstreamError, toGraphQLError } from '../src/graphql/errors.js';

const wrapped = (original: Error) => new GraphQLError(original.message, { path: ['chatCompletion'], originalError: original });

describe('toGraphQLError', () => {
  it('gives a gateway error its code, extensions and path', () => {
    const e = toGraphQLError(wrapped(new UpstreamError('groq', 503, 'overloaded')));
    expect(e.toJSON()).toEqual({ message: 'groq: overloaded', path: ['chatCompletion'], extensions: { code: 'UPSTREAM_ERROR', provider: 'groq', status: 503 } });
  });

  it('turns a bad JSON request parameter into BAD_USER_INPUT with HTTP 400', () => {
    const e = toGraphQLError(new SyntaxError('Unexpected end of JSON input'));
    expect(e.message).toMatch(/^Request parameter is not valid JSON/);
    expect(e.extensions).toEqual({ code: 'BAD_USER_INPUT', http: { status: 400 } });
  });

  it("keeps graphql-js's own errors as they are", () => {
    const own = new GraphQLError('Cannot query field "x" on type "Query".');
    expect(toGraphQLError(own)).toBe(own);
  });

  it('hides anything else behind a generic internal error', () => {
    const e = toGraphQLError(wrapped(new TypeError("Cannot read properties of undefined (reading 'secret')")));
    expect(e.toJSON()).toEqual({ message: 'Internal server error', path: ['chatCompletion'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});

describe('what is logged as whose fault', () => {
  it.each([
    ['bad input', new BadRequestError('x'), true, false],
    ['a client that left', new ClientGoneError(), true, false],
    ['an upstream 5xx', new UpstreamError('groq', 502, 'x'), false, true],
    ['an upstream timeout', new UpstreamTimeoutError('groq', 1000), false, true],
    ['a bug', new TypeError('x'), false, false],
  ])('%s', (_name, error, client, upstream) => {
    expect(isClientError(wrapped(error))).toBe(client);
    expect(isUpstreamError(wrapped(error))).toBe(upstream);
  });
});
