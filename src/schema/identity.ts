/** `Query.me`: who the gateway thinks is calling — handy to check a token from GraphiQL. */
import type { Identity } from '../auth/identity.js';
import { builder } from './builder.js';

const IdentityRef = builder.objectRef<Identity>('Identity').implement({
  description: 'The caller, as proven by its verified token.',
  fields: (t) => ({
    subject: t.exposeString('subject', { description: 'The token `sub`.' }),
    clientId: t.string({ nullable: true, description: 'The token `azp`: the OAuth client it was issued to.', resolve: (i) => i.clientId ?? null }),
    roles: t.stringList({ description: 'Realm roles, and client roles as `client:role`.', resolve: (i) => [...i.roles] }),
    // Float: RFC 7519 allows fractional times, and 2038 does not fit a GraphQL Int.
    expiresAt: t.float({ nullable: true, description: 'Unix seconds.', resolve: (i) => i.expiresAt ?? null }),
    claims: t.field({
      type: 'JSON',
      nullable: true,
      description: "The verified token's payload, as @graphql-yoga/plugin-jwt put it in the context (`context.jwt.payload`).",
      resolve: (_i, _args, ctx) => ctx.jwt?.payload ?? null,
    }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: IdentityRef,
    nullable: true,
    description: 'The authenticated caller; null when the gateway runs without authentication.',
    resolve: (_root, _args, ctx) => ctx.identity,
  }),
);
