/**
 * GraphQL authentication: @graphql-yoga/plugin-jwt's `useJWT`, fed by the gateway's one verifier
 * (src/auth/), with a plugin on each side of it. In the server's plugin list, in this order:
 *
 * - `useRememberedTokens`: a token this gateway verified before (and that has not expired) is put
 *   in `jwt` as the plugin itself would, and the plugin — which skips a context that already carries
 *   `jwt` — does not check its signature again. Saves ~75 µs per operation.
 * - `useJWT(jwtOptions(verifier))`: finds the token (`Authorization` header, or the WebSocket's
 *   `connectionParams`), asks the verifier to admit it (rules checked with a reason, key found, an
 *   unknown `kid` refetched or refused with 401 rather than the plugin's 500), takes the key from
 *   the shared signing-key cache and verifies with jsonwebtoken and the shared rules.
 * - `useCaller`: the verified payload becomes `identity` (what resolvers, limits and logs read) and
 *   is remembered for REST and later operations.
 *
 * Every transport builds its context through this pipeline — Yoga's own (POST, GET, SSE, batches,
 * via `onRequestParse`) and the gateway's direct ones (JSON fast path, SSE subscriptions, WebSocket,
 * via `onContextBuilding`), which hand over the header as `auth.authorization`.
 */
import { useJWT, type JWTExtendContextFields } from '@graphql-yoga/plugin-jwt';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Identity } from '../auth/identity.js';
import type { TokenVerifier } from '../auth/verifier.js';
import { GatewayError } from '../errors.js';

/** What the edge knows about the caller: the header it sent, and who it turned out to be. */
export interface RequestAuth {
  /** The `Authorization` value (HTTP header, or `connectionParams.Authorization` over WebSocket). */
  readonly authorization: string | undefined;
  /** Set once the token is verified, for the request's log line. */
  identity: Identity | null;
}

interface AuthContext {
  auth?: RequestAuth;
  request?: Request;
  jwt?: JWTExtendContextFields;
  identity?: Identity | null;
}

const headerOf = (ctx: AuthContext) => ctx.auth?.authorization ?? ctx.request?.headers.get('authorization') ?? undefined;

export function useRememberedTokens(verifier: TokenVerifier): Plugin<AuthContext> {
  const prefill = (ctx: AuthContext) => {
    if (ctx.jwt) return;
    const known = verifier.remembered(headerOf(ctx));
    if (known) ctx.jwt = { payload: known.payload as JWTExtendContextFields['payload'], token: known.token };
  };
  return {
    onRequestParse({ serverContext }) {
      prefill(serverContext as AuthContext);
    },
    onContextBuilding({ context }) {
      prefill(context);
    },
  };
}

/** The plugin's options: our token lookup, our key cache, our rules. */
export function jwtOptions(verifier: TokenVerifier): Parameters<typeof useJWT>[0] {
  return {
    tokenLookupLocations: [
      async ({ request, serverContext }) => {
        const { token } = await admit(verifier, headerOf({ ...(serverContext as AuthContext), request }));
        return { prefix: 'Bearer', token };
      },
    ],
    // Typed as string (a PEM); jsonwebtoken takes the KeyObject the cache holds as it is, without
    // parsing a PEM on every verification.
    signingKeyProviders: [(kid) => verifier.keys.keyFor(kid) as unknown as Promise<string>],
    tokenVerification: verifier.rules.verifyOptions,
    reject: { missingToken: true, invalidToken: true },
    extendContext: 'jwt',
  };
}

export function useCaller(verifier: TokenVerifier): Plugin<AuthContext> {
  return {
    onContextBuilding({ context, extendContext }) {
      const jwt = context.jwt;
      // useJWT refuses every operation without a verified token; this is a guard against a change there.
      if (!jwt) throw authError(new GraphQLError('Unauthenticated'));
      const identity = verifier.remembered(`Bearer ${jwt.token.value}`)?.identity ?? verifier.remember(jwt.token.value, jwt.payload).identity;
      if (context.auth) context.auth.identity = identity;
      extendContext({ identity });
    },
  };
}

/** The verifier's refusals, as GraphQL errors Yoga answers with 401 and the challenge header. */
async function admit(verifier: TokenVerifier, header: string | undefined) {
  try {
    return await verifier.admit(header);
  } catch (error) {
    throw authError(error);
  }
}

/**
 * An authentication failure as a GraphQL error with `extensions.code` and the HTTP status and
 * challenge Yoga answers with. The JWT plugin's own refusal ("Unauthenticated", status 401) comes
 * only after `admit` passed, so only the signature is left to blame.
 */
export function authError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError && error.extensions?.code === 'UNAUTHENTICATED') return error;
  const gatewayError = error instanceof GatewayError ? error : undefined;
  const message = gatewayError?.message ?? 'Invalid token: signature does not verify';
  const challenge = gatewayError?.headers['www-authenticate'] ?? 'Bearer error="invalid_token"';
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': challenge } } },
  });
}

/** Whether a GraphQL error is the JWT plugin's own refusal of a token (a 401 without our code). */
export function isJwtPluginRefusal(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions?.code) return false;
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  return status === 401;
}
