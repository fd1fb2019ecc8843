/** `Query.rateLimit`: the caller's budgets for the current minute, without spending any of them. */
import type { BudgetWindow } from '../policy/limits.js';
import { builder } from './builder.js';

const WindowRef = builder.objectRef<BudgetWindow>('RateLimitWindow').implement({
  description: 'One budget in the current one-minute window.',
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Per minute.' }),
    remaining: t.exposeInt('remaining'),
    resetSeconds: t.exposeInt('resetSeconds', { description: 'Until the window turns.' }),
  }),
});

interface RateLimitView {
  subject: string;
  requests?: BudgetWindow;
  tokens?: BudgetWindow;
}

const RateLimitRef = builder.objectRef<RateLimitView>('RateLimit').implement({
  description: 'The budgets the caller draws on (the same numbers as the x-ratelimit-* headers of REST).',
  fields: (t) => ({
    subject: t.exposeString('subject', { description: "Whose budget: the token's azp (or sub), `anonymous` without auth." }),
    requests: t.field({ type: WindowRef, nullable: true, description: 'Null when requests are not limited.', resolve: (v) => v.requests ?? null }),
    tokens: t.field({ type: WindowRef, nullable: true, description: 'Null when tokens are not limited.', resolve: (v) => v.tokens ?? null }),
  }),
});

builder.queryField('rateLimit', (t) =>
  t.field({
    type: RateLimitRef,
    description: "The caller's requests and tokens budgets for the current minute (reading them spends nothing).",
    resolve: async (_root, _args, { gateway, identity }) => {
      const subject = gateway.limits.subjectOf(identity);
      return { subject, ...(await gateway.limits.peek(subject)) };
    },
  }),
);
