/**
 * Yoga answers a Content-Type it cannot parse (415) and an Accept it cannot serve (406) with an
 * empty body. This plugin, running after Yoga's own parsers and result processors, turns both
 * into GraphQL errors a person can act on.
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const SUPPORTED_CONTENT_TYPES = 'application/json, application/graphql, application/x-www-form-urlencoded, multipart/form-data';

export function useMediaTypeErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (requestParser) return;
      const contentType = request.headers.get('content-type') ?? '(none)';
      setRequestParser(() => {
        throw createGraphQLError(`Content-Type ${contentType} is not supported; send ${SUPPORTED_CONTENT_TYPES}`, {
          extensions: { code: 'BAD_USER_INPUT', http: { status: 415 } },
        });
      });
    },
    onResultProcess({ request, resultProcessor, acceptableMediaTypes, setResultProcessor }) {
      if (resultProcessor) return;
      const offered = [...new Set(acceptableMediaTypes)].join(', ');
      const accept = request.headers.get('accept') ?? '';
      setResultProcessor(
        (_result, fetchAPI) =>
          new fetchAPI.Response(
            JSON.stringify({
              errors: [{ message: `Cannot answer in any type the Accept header allows (${accept}); this endpoint offers ${offered}`, extensions: { code: 'BAD_USER_INPUT' } }],
            }),
            { status: 406, headers: { 'content-type': 'application/json; charset=utf-8' } },
          ),
        'application/json',
      );
    },
  };
}
