/** GraphQL clients for tests: plain HTTP, GraphQL over SSE (graphql-sse) and WebSocket (graphql-ws). */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[];
}

export async function gql<T, V>(
  url: string,
  document: TypedDocumentNode<T, V> | string,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const query = typeof document === 'string' ? document : print(document);
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  return { status: res.status, headers: res.headers, ...body };
}

export interface Collected<T> {
  results: T[];
  errors: unknown[];
  /** Every event as it came (data, errors, extensions). */
  events: { data?: T; errors?: unknown[]; extensions?: Record<string, unknown> }[];
}

/** Runs a subscription over GraphQL-over-SSE to its end, collecting every result. */
export function subscribeSse<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V, headers: Record<string, string> = {}) {
  const client = createSseClient({ url: `${url}/graphql`, headers, retryAttempts: 0 });
  return collect<T>((sink) => client.subscribe({ query: print(document), variables: variables as Record<string, unknown> }, sink)).finally(() =>
    client.dispose(),
  );
}

export function wsClient(url: string, connectionParams?: Record<string, unknown>): WsClient {
  return createWsClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
}

/** Runs a subscription over graphql-ws to its end, collecting every result. */
export function subscribeWs<T, V>(client: WsClient, document: TypedDocumentNode<T, V>, variables: V) {
  return collect<T>((sink) => client.subscribe({ query: print(document), variables: variables as Record<string, unknown> }, sink));
}

type Sink = { next(value: any): void; error(error: unknown): void; complete(): void };

function collect<T>(start: (sink: Sink) => () => void): Promise<Collected<T>> {
  return new Promise((resolve, reject) => {
    const results: T[] = [];
    const errors: unknown[] = [];
    const events: Collected<T>['events'] = [];
    start({
      next(value) {
        events.push(value);
        if (value.errors) errors.push(...value.errors);
        if (value.data) results.push(value.data);
      },
      error(error) {
        if (Array.isArray(error)) errors.push(...error);
        else if (error instanceof Error || (error as any)?.code) errors.push(error);
        else return reject(error);
        resolve({ results, errors, events });
      },
      complete() {
        resolve({ results, errors, events });
      },
    });
  });
}
