/** Models and providers: what this gateway can serve. */
import type { Model as WireModel } from '../providers/types.js';
import { unixSeconds } from '../json-limits.js';
import { builder } from './builder.js';

export const ModelRef = builder.objectRef<WireModel>('Model').implement({
  description: 'A model a configured provider serves. `id` is `provider/model`, ready to use in a chat input.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.string({ description: 'The model name without the provider prefix.', resolve: (m) => m.id.slice(m.served_by.length + 1) }),
    provider: t.string({ resolve: (m) => m.served_by }),
    ownedBy: t.string({ nullable: true, resolve: (m) => m.owned_by }),
    created: t.int({ nullable: true, description: 'Unix seconds, when the provider says.', resolve: (m) => unixSeconds(m.created) ?? null }),
  }),
});

interface ProviderShape {
  id: string;
  name: string;
  configured: boolean;
}

export const ProviderRef = builder.objectRef<ProviderShape>('Provider').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name', { description: 'Display name.' }),
    configured: t.exposeBoolean('configured', { description: 'Whether this gateway has credentials (or a URL) for it.' }),
  }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    description: 'Models of one provider, or of every configured provider (a failing provider is left out).',
    args: { provider: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.gateway.listModels(args.provider, ctx.signal, ctx.identity),
  }),
  providers: t.field({
    type: [ProviderRef],
    description: 'Every provider this gateway knows, configured or not.',
    resolve: (_root, _args, ctx) =>
      [...ctx.gateway.providers.values()].map((p) => ({ id: p.id, name: p.spec.name, configured: p.configured })),
  }),
}));
