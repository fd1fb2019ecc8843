/**
 * `Query.usage`: what was spent, by whom, on what — the usage ledger summed by the dimensions asked
 * for. A caller reads its own subject's usage; USAGE_ADMIN_ROLE reads everyone's; with auth off, all.
 */
import { ForbiddenError, ServiceUnavailableError } from '../errors.js';
import { usageReport, type Dimension, type UsageRow } from '../ledger/report.js';
import { builder } from './builder.js';
import { DateTimeScalar } from './scalars.js';

const UsageDimensionEnum = builder.enumType('UsageDimension', {
  description: 'What to group usage by.',
  values: {
    SUBJECT: { value: 'subject', description: 'The budget subject: the token azp (OAuth client), or sub.' },
    CLIENT: { value: 'client', description: 'The OAuth client (azp) of the token.' },
    PROVIDER: { value: 'provider', description: 'The provider that served the call.' },
    MODEL: { value: 'model', description: 'The model, as the provider names it.' },
    DAY: { value: 'day', description: 'UTC day (`period` is its start).' },
    HOUR: { value: 'hour', description: 'UTC hour (`period` is its start).' },
  } as const,
});

const UsageRowRef = builder.objectRef<UsageRow>('UsageRow').implement({
  description: 'Usage summed over a group (the grouped dimensions are set, the others null), or over everything (total).',
  fields: (t) => ({
    subject: t.string({ nullable: true, description: 'With SUBJECT.', resolve: (r) => r.subject ?? null }),
    client: t.string({ nullable: true, description: 'With CLIENT.', resolve: (r) => r.client ?? null }),
    provider: t.string({ nullable: true, description: 'With PROVIDER.', resolve: (r) => r.provider ?? null }),
    model: t.string({ nullable: true, description: 'With MODEL.', resolve: (r) => r.model ?? null }),
    period: t.field({ type: DateTimeScalar, nullable: true, description: 'With DAY or HOUR: the start of the period.', resolve: (r) => r.period ?? null }),
    requests: t.float({ description: 'Provider calls (chat, embeddings, images), failures included.', resolve: (r) => r.requests }),
    errors: t.float({ description: 'Calls that failed.', resolve: (r) => r.errors }),
    promptTokens: t.float({ description: 'Input tokens (estimated for streams that ended without usage).', resolve: (r) => r.promptTokens }),
    completionTokens: t.float({ description: 'Output tokens.', resolve: (r) => r.completionTokens }),
    cachedTokens: t.float({ description: 'Of the input tokens, read from prompt caches.', resolve: (r) => r.cachedTokens }),
    reasoningTokens: t.float({ description: 'Of the output tokens, spent reasoning.', resolve: (r) => r.reasoningTokens }),
    costUsd: t.float({ description: 'USD, at MODEL_PRICES and the built-in table (unpriced models count 0).', resolve: (r) => r.costUsd }),
  }),
});

interface Report {
  from: Date;
  to: Date;
  rows: UsageRow[];
  total: UsageRow;
}

const UsageReportRef = builder.objectRef<Report>('UsageReport').implement({
  description: 'Usage over a time range.',
  fields: (t) => ({
    from: t.field({ type: DateTimeScalar, description: 'Start (inclusive).', resolve: (r) => r.from }),
    to: t.field({ type: DateTimeScalar, description: 'End (exclusive).', resolve: (r) => r.to }),
    rows: t.field({ type: [UsageRowRef], description: 'One row per group, ordered by the grouped dimensions (empty without groupBy).', resolve: (r) => r.rows }),
    total: t.field({ type: UsageRowRef, description: 'Everything in the range.', resolve: (r) => r.total }),
  }),
});

builder.queryField('usage', (t) =>
  t.field({
    type: UsageReportRef,
    description: "What was spent, by whom, on what. Without the admin role (USAGE_ADMIN_ROLE) a caller sees its own subject's usage only.",
    args: {
      from: t.arg({ type: DateTimeScalar, description: 'Default: the start of today (UTC).' }),
      to: t.arg({ type: DateTimeScalar, description: 'Default: now.' }),
      groupBy: t.arg({ type: [UsageDimensionEnum], description: 'Dimensions to group by (DAY or HOUR, not both).' }),
      subject: t.arg.string({ description: "Only this subject's usage (admins; others may name only their own)." }),
    },
    resolve: async (_root, args, { gateway, identity }) => {
      if (!gateway.ledger.enabled) throw new ServiceUnavailableError('The usage ledger is off on this gateway (USAGE_DATABASE_URL=off)');
      let subject = args.subject ?? undefined;
      if (identity && !identity.roles.includes(gateway.usageAdminRole)) {
        const own = gateway.limits.subjectOf(identity);
        if (subject !== undefined && subject !== own) throw new ForbiddenError(`Reading the usage of '${subject}' needs the role ${gateway.usageAdminRole}; you may read your own ('${own}')`);
        subject = own;
      }
      const to = (args.to as Date | null | undefined) ?? new Date();
      const from = (args.from as Date | null | undefined) ?? new Date(Math.floor(to.getTime() / 86_400_000) * 86_400_000);
      const store = await gateway.ledger.reader().catch(() => {
        throw new ServiceUnavailableError('The usage database is unavailable; retry shortly');
      });
      const { rows, total } = await usageReport(store, { from, to, groupBy: (args.groupBy ?? []) as Dimension[], subject }).catch((error: unknown) => {
        if (error instanceof Error && error.name === 'BadRequestError') throw error;
        throw new ServiceUnavailableError('The usage database is unavailable; retry shortly');
      });
      return { from, to, rows, total };
    },
  }),
);
