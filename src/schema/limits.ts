/** `Query.rateLimit`: the caller's budgets for the current minute, without spending any of them. */
import type { BudgetWindow } from '../policy/limits.js';
import type { SpendWindow } from '../policy/spend.js';
import { builder } from './builder.js';

const WindowRef = builder.objectRef<BudgetWindow>('RateLimitWindow').implement({
  description: 'One budget in the current one-minute window.',
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Per minute.' }),
    remaining: t.exposeInt('remaining'),
    resetSeconds: t.exposeInt('resetSeconds', { description: 'Until the window turns.' }),
  }),
});

const SpendWindowRef = builder.objectRef<SpendWindow>('SpendWindow').implement({
  description: "The subject's spend today (UTC) against its daily limit.",
  fields: (t) => ({
    limitUsd: t.exposeFloat('limitUsd', { description: 'USD per day.' }),
    spentUsd: t.exposeFloat('spentUsd', { description: 'Spent so far today.' }),
    remainingUsd: t.exposeFloat('remainingUsd'),
    resetSeconds: t.exposeInt('resetSeconds', { description: 'Until the UTC day turns.' }),
  }),
});

interface RateLimitView {
  subject: string;
  requests?: BudgetWindow;
  tokens?: BudgetWindow;
  spend?: SpendWindow;
}

const RateLimitRef = builder.objectRef<RateLimitView>('RateLimit').implement({
  description: 'The budgets the caller draws on (the same numbers as the x-ratelimit-* headers of REST).',
  fields: (t) => ({
    subject: t.exposeString('subject', { description: "Whose budget: the token's azp (or sub), `anonymous` without auth." }),
    requests: t.field({ type: WindowRef, nullable: true, description: 'Null when requests are not limited.', resolve: (v) => v.requests ?? null }),
    tokens: t.field({ type: WindowRef, nullable: true, description: 'Null when tokens are not limited.', resolve: (v) => v.tokens ?? null }),
    spend: t.field({ type: SpendWindowRef, nullable: true, description: 'Null when spend is not limited (SPEND_LIMIT_USD_PER_DAY).', resolve: (v) => v.spend ?? null }),
  }),
});

builder.queryField('rateLimit', (t) =>
  t.field({
    type: RateLimitRef,
    description: "The caller's requests and tokens budgets for the current minute (reading them spends nothing).",
    resolve: async (_root, _args, { gateway, identity }) => {
      const subject = gateway.limits.subjectOf(identity);
      const [budgets, spend] = await Promise.all([gateway.limits.peek(subject), gateway.spend.peek(subject)]);
      return { subject, ...budgets, spend };
    },
  }),
);
