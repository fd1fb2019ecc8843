/**
 * Trusted documents (persisted operations): the app's operations, known in advance by sha256 id from
 * GraphQL Code Generator's `persisted-documents.json` (GRAPHQL_PERSISTED_DOCUMENTS). A request names
 * one as `{"documentId": "sha256:<hash>"}` or bare `<hash>` (GraphQL over HTTP; `?documentId=` on GET) or as Apollo's
 * `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hash>"}}}`. In `only` mode nothing
 * else runs: ad-hoc documents and introspection are refused (production); `allow` takes both.
 *
 * Yoga's persisted-operations plugin resolves ids in `onParams`, which the gateway's direct paths
 * (JSON fast path, SSE subscriptions, WebSocket) never run; so one resolver here serves them all,
 * and `useTrustedDocuments` plugs the same resolver into Yoga's own path (GET, batches, the rest).
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { PersistedDocumentsConfig } from '../config.js';

export interface OperationParams {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
  [key: string]: unknown;
}

export class TrustedDocuments {
  constructor(private readonly config: PersistedDocumentsConfig | undefined) {}

  get enabled(): boolean {
    return this.config !== undefined;
  }

  /**
   * The params to run: `query` taken from the persisted id when one is given (and `documentId`
   * dropped); the request's own document in `allow` mode. Throws a GraphQL error (400) otherwise.
   */
  resolve<P extends OperationParams>(params: P, searchParams?: URLSearchParams): P {
    if (!this.config) return params;
    const fromUrl = searchParams?.get('documentId');
    const id = idOf(params) ?? (fromUrl ? bare(fromUrl) : undefined);
    if (id === undefined) {
      if (this.config.mode === 'only') {
        throw refusal('PERSISTED_QUERY_ONLY', 'This gateway runs trusted documents only: send {"documentId": "<sha256>"} of a document the app was built with');
      }
      return params;
    }
    const document = this.config.documents.get(id);
    if (document === undefined) {
      if (this.config.mode === 'allow' && typeof params.query === 'string' && params.query !== '') return withoutId(params);
      throw refusal('PERSISTED_QUERY_NOT_FOUND', `Persisted document ${id.slice(0, 80)} is not known to this gateway`);
    }
    return { ...withoutId(params), query: document };
  }
}

/** Yoga's own path: the same resolver in `onParams`, before Yoga checks the params. */
export function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  return {
    onParams({ params, request, setParams }) {
      const search = request.method === 'GET' ? new URL(request.url).searchParams : undefined;
      setParams(documents.resolve(params as OperationParams, search) as typeof params);
    },
  };
}

function idOf(params: OperationParams): string | undefined {
  if (typeof params.documentId === 'string' && params.documentId !== '') return bare(params.documentId);
  const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return typeof persisted?.sha256Hash === 'string' ? bare(persisted.sha256Hash) : undefined;
}

/** `sha256:<hex>` (the client preset's and GraphQL over HTTP's form) or bare hex, as bare hex. */
const bare = (id: string) => (id.startsWith('sha256:') ? id.slice(7) : id);

function withoutId<P extends OperationParams>(params: P): P {
  const { documentId: _documentId, ...rest } = params;
  return rest as P;
}

function refusal(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}
