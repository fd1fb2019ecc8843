/**
 * The gateway's own logic, shared by the REST shim and the GraphQL API (HTTP, SSE and WebSocket):
 * which provider serves a request, whether this caller may use the model, the caller's budget,
 * fallbacks, and what each call is recorded as (metrics, the request log line, the reported
 * target). Neither edge re-implements any of it.
 */
import { setMaxListeners } from 'node:events';
import type { Identity } from './auth/identity.js';
import type { Config } from './config.js';
import { BadRequestError, ForbiddenError, GatewayError, NotFoundError, UpstreamError } from './errors.js';
import type { Logger } from './logger.js';
import { ModelAccess } from './policy/access.js';
import { RateLimits, type BudgetState } from './policy/limits.js';
import { SpendLimits } from './policy/spend.js';
import { UsageLedger } from './ledger/ledger.js';
import { PriceBook } from './ledger/prices.js';
import { Provider } from './providers/provider.js';
import { PROVIDERS } from './providers/catalog.js';
import type { ChatCompletionChunk, ChatRequest, EmbeddingsRequest, Model, StreamChunk, Usage } from './providers/types.js';
import { failedBeforeResponse } from './providers/upstream.js';
import { Metrics } from './telemetry/metrics.js';
import { NO_TRACING, type Span, type StreamTrace, type Tracing } from './telemetry/tracing.js';

export interface Route {
  readonly provider: Provider;
  /** The model name as the provider knows it (no `provider/` prefix). */
  readonly model: string;
}

/** Who is asking, and where to record what happened. */
export interface CallContext {
  readonly identity: Identity | null;
  /** Fires when the client goes away or the gateway cuts in-flight work. */
  readonly signal?: AbortSignal;
  /** Each provider call this request made is appended here (read by logs, headers, GraphQL extensions). */
  readonly calls?: CallRecord[];
  /** The request's id, kept with its usage records. */
  readonly requestId?: string;
  /** The request's (or WebSocket operation's) SERVER span, parent of its provider calls' spans; set when tracing is on. */
  readonly span?: Span;
}

/** What a call asks of a provider (OpenTelemetry's gen_ai.operation.name). */
export type Operation = 'chat' | 'embeddings' | 'image_generation';

/** One served (or failed) provider call, as reported to the caller and the logs. */
export interface CallRecord {
  operation: Operation;
  /** The provider and model that served it (after any fallback). */
  provider: string;
  model: string;
  /** The alias the caller asked for, when it was one. */
  alias?: string;
  /** Targets tried, the serving one included. */
  attempts: number;
  subject: string;
  /** The OAuth client (`azp`) of the caller's token. */
  client?: string;
  requestId?: string;
  /** When the call began: wall clock (for the ledger) and monotonic (for durations). */
  startedAt: number;
  started: number;
  /** Time to the first chunk of a stream, ms. */
  ttftMs?: number;
  /** Time spent waiting on providers, ms (failed attempts included). */
  upstreamMs: number;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  /** What the call cost, USD (0 when the model has no price). */
  costUsd?: number;
  /** The stream ended without the provider reporting usage; tokens were estimated from the text. */
  tokensEstimated?: boolean;
  /** Error code when the call failed. */
  error?: string;
  /** The subject's budgets after this call, when limits apply (REST reports them as `x-ratelimit-*`). */
  budget?: BudgetState;
}

/** Time a request's calls spent waiting on providers, ms. */
export function upstreamMsOf(calls: readonly CallRecord[]): number {
  let ms = 0;
  for (const call of calls) ms += call.upstreamMs;
  return ms;
}

/** What a request's (or WebSocket operation's) chat calls add to its log line: provider, model, tokens, time upstream. */
export function callLogFields(calls: readonly CallRecord[]): Record<string, unknown> {
  const last = calls[calls.length - 1];
  if (!last) return {};
  let prompt = 0;
  let completion = 0;
  for (const call of calls) {
    prompt += call.promptTokens ?? 0;
    completion += call.completionTokens ?? 0;
  }
  const fields: Record<string, unknown> = {
    ...(last.operation !== 'chat' && { operation: last.operation }),
    provider: last.provider,
    model: last.model,
    promptTokens: prompt,
    completionTokens: completion,
    upstreamMs: Math.round(upstreamMsOf(calls) * 10) / 10,
  };
  if (last.alias) Object.assign(fields, { alias: last.alias, attempts: last.attempts });
  if (last.tokensEstimated) fields.tokensEstimated = true;
  let cost = 0;
  for (const call of calls) cost += call.costUsd ?? 0;
  if (cost > 0) fields.costUsd = Math.round(cost * 1e6) / 1e6;
  if (last.error) fields.error = last.error;
  if (calls.length > 1) fields.calls = calls.length;
  return fields;
}

/** When a stream's call began, when its provider accepted it, and the upstream time spent until then. */
interface StreamTiming {
  readonly started: number;
  readonly opened: number;
  /** Upstream time before this target accepted (failed fallback attempts included). */
  readonly beforeMs: number;
  /** This target's time to accept. */
  readonly headersMs: number;
}

export class Gateway {
  readonly providers: ReadonlyMap<string, Provider>;
  readonly metrics: Metrics;
  readonly limits: RateLimits;
  readonly spend: SpendLimits;
  readonly ledger: UsageLedger;
  readonly prices: PriceBook;
  /** The role (realm, or `client:role`) that reads everyone's usage. */
  readonly usageAdminRole: string;
  readonly access: ModelAccess;
  private readonly allowed: ReadonlySet<string>;
  private readonly disallowed: ReadonlySet<string>;
  private readonly fallbacks: ReadonlyMap<string, readonly string[]>;

  constructor(config: Config, private readonly logger: Logger, readonly tracing: Tracing = NO_TRACING) {
    const timeouts = {
      readTimeoutMs: config.server.readTimeoutMs,
      streamIdleTimeoutMs: config.server.writeTimeoutMs,
      maxStreamDurationMs: config.server.maxStreamDurationMs,
    };
    this.providers = new Map(config.providers.map((p) => [p.spec.id, new Provider(p, timeouts)]));
    this.allowed = new Set(config.allowedModels);
    this.disallowed = new Set(config.disallowedModels);
    this.fallbacks = config.fallbacks;
    this.metrics = new Metrics();
    this.access = new ModelAccess(config.modelAccess);
    this.limits = new RateLimits(config.limits, logger, this.metrics);
    this.spend = new SpendLimits(config.usage, config.limits, logger, this.metrics);
    this.ledger = new UsageLedger(config.usage, logger, this.metrics);
    this.prices = new PriceBook(config.usage.prices);
    this.usageAdminRole = config.usage.adminRole;
  }

  /** A configured provider by id, or a 4xx saying what is wrong. */
  provider(id: string): Provider {
    const provider = this.providers.get(id.toLowerCase());
    if (!provider) {
      throw new NotFoundError(`Unknown provider '${id}'. Known providers: ${[...this.providers.keys()].join(', ')}`);
    }
    if (!provider.configured) {
      throw new BadRequestError(
        `Provider '${provider.id}' is not configured on this gateway (set ${provider.spec.envPrefix}_API_KEY` +
          `${provider.spec.keyless ? ` or ${provider.spec.envPrefix}_API_URL` : ''})`,
      );
    }
    return provider;
  }

  configuredProviders(): Provider[] {
    return [...this.providers.values()].filter((p) => p.configured);
  }

  /** Finds the provider for `model` (`provider/model`) or for an explicit `provider`, and checks policy. */
  route(model: unknown, providerId?: string | null, identity: Identity | null = null): Route {
    if (typeof model !== 'string' || model.trim() === '') {
      throw new BadRequestError("'model' is required: name it as provider/model, e.g. groq/llama-3.3-70b-versatile");
    }
    const slash = model.indexOf('/');
    const prefix = slash > 0 ? model.slice(0, slash).toLowerCase() : undefined;
    let route: Route;
    if (providerId) {
      const provider = this.provider(providerId);
      route = { provider, model: prefix === provider.id ? model.slice(slash + 1) : model };
    } else if (prefix && this.providers.has(prefix)) {
      route = { provider: this.provider(prefix), model: model.slice(slash + 1) };
    } else {
      const aliases = this.fallbacks.size > 0 ? ` or a model alias (${[...this.fallbacks.keys()].join(', ')})` : '';
      throw new BadRequestError(
        `Cannot tell which provider serves model '${model}': use 'provider/model' (e.g. groq/llama-3.3-70b-versatile)${aliases} ` +
          `or the provider parameter. Configured providers: ${this.configuredProviders().map((p) => p.id).join(', ') || 'none'}`,
      );
    }
    if (!route.model) throw new BadRequestError(`Model name is missing after '${route.provider.id}/'`);
    if (!this.isAllowed(route.provider.id, route.model)) {
      throw new ForbiddenError(`Model '${route.provider.id}/${route.model}' is not allowed on this gateway`);
    }
    if (!this.access.allows(identity, route.provider.id, route.model)) {
      throw new ForbiddenError(
        `Model '${route.provider.id}/${route.model}' is not allowed for ${this.access.describe(identity)}`,
      );
    }
    return route;
  }

  /**
   * The targets a request may go to, in order: an alias's fallback list (targets this caller may not
   * use are left out), or the one route its model names.
   */
  targets(model: unknown, providerId: string | null | undefined, identity: Identity | null): { alias?: string; routes: Route[] } {
    const targets = !providerId && typeof model === 'string' ? this.fallbacks.get(model) : undefined;
    if (!targets) return { routes: [this.route(model, providerId, identity)] };
    const routes: Route[] = [];
    let refusal: GatewayError | undefined;
    for (const target of targets) {
      try {
        routes.push(this.route(target, null, identity));
      } catch (error) {
        if (!(error instanceof ForbiddenError)) throw error;
        refusal ??= error;
      }
    }
    if (routes.length === 0) {
      throw new ForbiddenError(`Model alias '${model}': no target is allowed (${refusal!.message})`);
    }
    return { alias: model as string, routes };
  }

  isAllowed(provider: string, model: string): boolean {
    const full = `${provider}/${model}`;
    if (this.disallowed.has(full) || this.disallowed.has(model)) return false;
    return this.allowed.size === 0 || this.allowed.has(full) || this.allowed.has(model);
  }

  /** Raw `/proxy/{provider}` access: only for callers whose roles open the whole provider; counts against their requests budget. */
  async admitProxy(provider: Provider, identity: Identity | null): Promise<void> {
    if (!this.access.allowsWholeProvider(identity, provider.id)) {
      throw new ForbiddenError(`Raw access to provider '${provider.id}' needs a role allowed '${provider.id}/*'`);
    }
    await this.limits.admit(this.limits.subjectOf(identity));
  }


  /** One provider's models, or every configured provider's in parallel (failures left out, logged), as this caller may use them. */
  async listModels(providerId?: string | null, signal?: AbortSignal, identity: Identity | null = null): Promise<Model[]> {
    const providers = providerId ? [this.provider(providerId)] : this.configuredProviders();
    if (providerId) return this.usableModels(await providers[0]!.listModels(signal), identity);
    // Every provider's request listens on the caller's one signal.
    if (signal instanceof EventTarget) setMaxListeners(providers.length * 2 + 10, signal);
    const results = await Promise.allSettled(providers.map((p) => p.listModels(signal)));
    const models: Model[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') models.push(...result.value);
      else this.logger.warn({ provider: providers[i]!.id, err: result.reason?.message }, 'listing models failed');
    });
    return this.usableModels(models, identity);
  }

  async chat(request: ChatRequest, providerId: string | null | undefined, ctx: CallContext) {
    const { alias, routes } = this.targets(request.model, providerId, ctx.identity);
    const { route, result, record } = await this.call('chat', routes, alias, ctx, (r) => r.provider.chat(request, r.model, ctx.signal), (r) => r.completion.usage, request);
    return { provider: route.provider, model: route.model, completion: result.completion, raw: result.raw, record };
  }

  /** Embeddings, from the provider the model names (or the first target of an alias that serves them). */
  async embeddings(request: EmbeddingsRequest, providerId: string | null | undefined, ctx: CallContext) {
    const { alias, routes } = this.embeddingsTargets(request.model, providerId, ctx.identity);
    const { route, result, record } = await this.call('embeddings', routes, alias, ctx, (r) => r.provider.embeddings(request, r.model, ctx.signal), (r) => r.response.usage, request);
    return { provider: route.provider, model: route.model, response: result.response, raw: result.raw, record };
  }

  /** The targets of `model` whose provider serves embeddings; a 400 naming those that do when none does. */
  private embeddingsTargets(model: unknown, providerId: string | null | undefined, identity: Identity | null) {
    const { alias, routes } = this.targets(model, providerId, identity);
    const serving = routes.filter((r) => r.provider.spec.embeddings);
    if (serving.length > 0) return { alias, routes: serving };
    const all = PROVIDERS.filter((p) => p.embeddings).map((p) => p.id);
    const here = this.configuredProviders().filter((p) => p.spec.embeddings).map((p) => p.id);
    const which = alias ? `No target of alias '${alias}' serves` : `Provider '${routes[0]!.provider.id}' does not serve`;
    throw new BadRequestError(`${which} embeddings. Providers that do: ${all.join(', ')} (configured here: ${here.join(', ') || 'none'})`);
  }

  /**
   * One non-streamed provider call: budget, fallbacks, metrics, tokens charged from the answer's usage.
   * `asked`: the request as the caller sent it, for the call's trace span.
   */
  async call<T>(
    operation: Operation,
    routes: Route[],
    alias: string | undefined,
    ctx: CallContext,
    send: (route: Route) => Promise<T>,
    usageOf: (result: T) => Partial<Usage> | null | undefined,
    asked?: unknown,
  ) {
    const subject = this.limits.subjectOf(ctx.identity);
    const record = this.begin(operation, routes[0]!, alias, subject, ctx);
    try {
      await this.admit(record);
      const { route, result, ms, span } = await this.firstServing(routes, record, ctx, send, false, asked);
      const usage = usageOf(result);
      const charged = this.finish(record, route, usage ? tokensOf(usage) : undefined, ms);
      if (span) this.tracing.callServed(span, record, result);
      if (charged) await charged;
      const ended = this.end(record);
      if (ended) await ended;
      return { route, result, record };
    } catch (error) {
      if (record.error === undefined) {
        this.fail(record, error);
        void this.end(record);
      }
      throw error;
    }
  }

  /** The subject's budgets (per minute) and spend limit (per day), before any provider is asked. */
  private async admit(record: CallRecord): Promise<void> {
    const admitted = this.limits.admit(record.subject);
    if (admitted) record.budget = await admitted;
    const spend = this.spend.admit(record.subject);
    if (spend) await spend;
  }

  /**
   * Starts a stream. Resolves once a provider has accepted it (fallbacks happen until then); the
   * chunks are then relayed as they come, and the call is recorded when the stream ends, however it ends.
   */
  async chatStream(request: ChatRequest, providerId: string | null | undefined, ctx: CallContext) {
    const { alias, routes } = this.targets(request.model, providerId, ctx.identity);
    const { route, items, record } = await this.stream(routes, alias, ctx, (r) => r.provider.chatStream(request, r.model, ctx.signal), meterChatChunk, promptCharsOf(request.messages), request);
    return { provider: route.provider, model: route.model, chunks: items, record };
  }

  /**
   * Starts any stream (a chat stream, or another API's native one): budget, fallbacks until a
   * provider accepts, then its items relayed as they come, `meter` reading usage (or text, for an
   * estimate) from each; the call is recorded when the stream ends, however it ends.
   */
  async stream<T>(
    routes: Route[],
    alias: string | undefined,
    ctx: CallContext,
    open: (route: Route) => Promise<AsyncGenerator<T>>,
    meter: StreamMeter<T>,
    promptChars: number,
    asked?: unknown,
  ) {
    const subject = this.limits.subjectOf(ctx.identity);
    const record = this.begin('chat', routes[0]!, alias, subject, ctx);
    const started = performance.now();
    let opened: { route: Route; result: AsyncGenerator<T>; ms: number; span?: Span; attemptStarted: number };
    try {
      await this.admit(record);
      opened = await this.firstServing(routes, record, ctx, open, true, asked);
    } catch (error) {
      this.fail(record, error);
      void this.end(record);
      throw error;
    }
    const { route, result, ms } = opened;
    record.provider = route.provider.id;
    record.model = route.model;
    // firstServing counted the time to the stream's headers; the rest of the stream counts too.
    const timing: StreamTiming = { started, opened: performance.now(), beforeMs: record.upstreamMs, headersMs: ms };
    const trace = opened.span && this.tracing.streamTrace(opened.span, opened.attemptStarted);
    const items = this.observe(result, route, meter, promptChars, record, timing, trace);
    return { route, items, record };
  }

  /** Starts background work: the usage ledger's writer (its database opens in the background). */
  start(): void {
    this.ledger.start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close()));
    // Calls cut by the shutdown have recorded themselves by now: write what the ledger holds.
    await this.ledger.close();
    await this.limits.close();
    await this.spend.close();
  }

  /**
   * Tries targets in order; moves on only when a target failed before answering (no byte served).
   * With tracing on, each attempt has its own CLIENT span (returned open for the serving one).
   */
  private async firstServing<T>(routes: Route[], record: CallRecord, ctx: CallContext, call: (route: Route) => Promise<T>, stream: boolean, asked: unknown) {
    for (let i = 0; ; i++) {
      const route = routes[i]!;
      record.attempts = i + 1;
      const started = performance.now();
      const span = this.tracing.enabled
        ? this.tracing.startCall(ctx.span, { operation: record.operation, provider: route.provider.id, model: route.model, origin: route.provider.upstream.origin, attempt: i + 1, alias: record.alias, stream, asked })
        : undefined;
      try {
        const result = await (span ? this.tracing.within(span, () => call(route)) : call(route));
        const ms = performance.now() - started;
        record.upstreamMs += ms;
        return { route, result, ms, span, attemptStarted: started };
      } catch (error) {
        if (span) this.tracing.callFailed(span, error);
        const seconds = (performance.now() - started) / 1000;
        record.upstreamMs += seconds * 1000;
        const code = error instanceof GatewayError ? error.code : 'INTERNAL_SERVER_ERROR';
        this.metrics.operation(record.operation, route.provider.id, route.model, seconds, code);
        if (i === routes.length - 1 || !record.alias || !worthAnotherTarget(error) || ctx.signal?.aborted) throw error;
        const failed = `${route.provider.id}/${route.model}`;
        this.metrics.fallback(record.alias, failed, code);
        this.logger.warn({ alias: record.alias, failed, err: (error as Error).message, next: `${routes[i + 1]!.provider.id}/${routes[i + 1]!.model}` }, 'fallback: trying the next target');
      }
    }
  }

  private begin(operation: Operation, route: Route, alias: string | undefined, subject: string, ctx: CallContext): CallRecord {
    const record: CallRecord = {
      operation,
      provider: route.provider.id,
      model: route.model,
      attempts: 0,
      subject,
      upstreamMs: 0,
      startedAt: Date.now(),
      started: performance.now(),
    };
    if (alias) record.alias = alias;
    if (ctx.identity?.clientId) record.client = ctx.identity.clientId;
    if (ctx.requestId) record.requestId = ctx.requestId;
    ctx.calls?.push(record);
    return record;
  }

  /**
   * `operationMs`: the serving target's own time (failed attempts before it are not part of it).
   * Returns the token charge to wait for, if there is one.
   */
  private finish(record: CallRecord, route: Route, tokens: TokenCount | undefined, operationMs: number): Promise<unknown> | undefined {
    record.provider = route.provider.id;
    record.model = route.model;
    this.metrics.operation(record.operation, route.provider.id, route.model, operationMs / 1000);
    this.metrics.request(record.subject, route.provider.id, route.model, 'ok');
    return tokens ? this.account(record, tokens) : undefined;
  }

  private fail(record: CallRecord, error: unknown): void {
    const code = error instanceof GatewayError ? error.code : 'INTERNAL_SERVER_ERROR';
    record.error = code;
    this.metrics.request(record.subject, record.provider, record.model, code.toLowerCase());
  }

  /**
   * Charged before the answer is complete (JSON sent, stream's last frame), so the subject's next
   * request — on any replica — already sees it. Costs one store round trip, only with token budgets.
   */
  private account(record: CallRecord, tokens: TokenCount): Promise<unknown> | undefined {
    record.promptTokens = tokens.input;
    record.completionTokens = tokens.output;
    if (tokens.cached) record.cachedTokens = tokens.cached;
    if (tokens.reasoning) record.reasoningTokens = tokens.reasoning;
    this.metrics.tokens(record.operation, record.subject, record.provider, record.model, tokens.input, tokens.output);
    const charged = this.limits.charge(record.subject, tokens.input + tokens.output);
    return charged?.then((window) => {
      if (window && record.budget) record.budget.tokens = window;
    });
  }

  /**
   * The end of every call, served or failed, once its tokens are known: its cost, the cost metric,
   * its usage record (written off the request path) and its charge against the daily spend limit —
   * the one charge waited for, so the subject's next call already sees it.
   */
  private end(record: CallRecord): Promise<void> | undefined {
    const tokens = { input: record.promptTokens ?? 0, output: record.completionTokens ?? 0, cached: record.cachedTokens ?? 0 };
    const { usd, priced } = this.prices.cost(record.provider, record.model, tokens);
    record.costUsd = usd;
    this.metrics.cost(record.subject, record.provider, record.model, usd);
    this.ledger.record({
      at: new Date(record.startedAt),
      requestId: record.requestId,
      subject: record.subject,
      client: record.client,
      operation: record.operation,
      provider: record.provider,
      model: record.model,
      alias: record.alias,
      promptTokens: tokens.input,
      completionTokens: tokens.output,
      cachedTokens: tokens.cached,
      reasoningTokens: record.reasoningTokens ?? 0,
      tokensEstimated: record.tokensEstimated ?? false,
      latencyMs: performance.now() - record.started,
      ttftMs: record.ttftMs,
      status: record.error ?? 'ok',
      costUsd: usd,
      priced,
    });
    return this.spend.charge(record.subject, usd);
  }

  /** Relays a stream's items unchanged while noting first-item time and usage; records the call at its end. */
  private async *observe<T>(
    items: AsyncGenerator<T>,
    route: Route,
    meter: StreamMeter<T>,
    promptChars: number,
    record: CallRecord,
    timing: StreamTiming,
    trace: StreamTrace | undefined,
  ): AsyncGenerator<T> {
    const usage: Partial<Usage> = {};
    let reported = false;
    let first = true;
    let text = 0;
    let failure: unknown;
    try {
      for await (const item of items) {
        if (first) {
          first = false;
          const now = performance.now();
          this.metrics.firstChunk(route.provider.id, route.model, (now - timing.started) / 1000);
          record.ttftMs = now - record.started;
        }
        if (trace) trace.item(item);
        const seen = meter(item);
        if (seen.usage) {
          Object.assign(usage, seen.usage);
          reported = true;
        }
        text += seen.text ?? 0;
        yield item;
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const streaming = performance.now() - timing.opened;
      record.upstreamMs = timing.beforeMs + streaming;
      const operationMs = timing.headersMs + streaming;
      // Usage as reported; if the stream ended without it (cut, client gone, provider that never
      // sends it), an estimate at ~4 characters per token, so budgets can't be dodged by leaving early.
      const tokens: TokenCount = reported ? tokensOf(usage) : { input: Math.ceil(promptChars / 4), output: Math.ceil(text / 4) };
      if (!reported) record.tokensEstimated = true;
      let charged: Promise<unknown> | undefined;
      if (failure === undefined) charged = this.finish(record, route, tokens, operationMs);
      else {
        this.fail(record, failure);
        this.metrics.operation('chat', route.provider.id, route.model, operationMs / 1000, record.error);
        charged = this.account(record, tokens);
      }
      trace?.end(record, failure);
      if (charged) await charged;
      const ended = this.end(record);
      if (ended) await ended;
    }
  }

  private usableModels(models: Model[], identity: Identity | null): Model[] {
    if (this.allowed.size === 0 && this.disallowed.size === 0 && !this.access.enabled) return models;
    return models.filter((m) => {
      const model = m.id.slice(m.served_by.length + 1);
      return this.isAllowed(m.served_by, model) && this.access.allows(identity, m.served_by, model);
    });
  }
}

/** Connect error, timeout, 5xx or 429 before the provider answered: another target may serve. */
function worthAnotherTarget(error: unknown): boolean {
  if (!failedBeforeResponse(error) || !(error instanceof GatewayError)) return false;
  if (error.code === 'UPSTREAM_TIMEOUT') return true;
  if (error instanceof UpstreamError) return error.status >= 500 || error.status === 429;
  return error.code === 'UPSTREAM_ERROR'; // unreachable (502)
}

interface TokenCount {
  input: number;
  output: number;
  cached?: number;
  reasoning?: number;
}

function tokensOf(usage: Partial<Usage>): TokenCount {
  const input = Number(usage.prompt_tokens) || 0;
  const output = Number(usage.completion_tokens) || Math.max(0, (Number(usage.total_tokens) || 0) - input);
  const cached = Number((usage.prompt_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens) || 0;
  const reasoning = Number((usage.completion_tokens_details as { reasoning_tokens?: unknown } | undefined)?.reasoning_tokens) || 0;
  return { input, output, cached, reasoning };
}

function deltaLength(choices: ChatCompletionChunk['choices']): number {
  let n = 0;
  for (const choice of choices) {
    const delta = choice.delta;
    if (!delta) continue;
    if (typeof delta.content === 'string') n += delta.content.length;
    if (typeof delta.reasoning_content === 'string') n += delta.reasoning_content.length;
    if (delta.tool_calls) for (const call of delta.tool_calls) n += call.function?.arguments?.length ?? 0;
  }
  return n;
}

/** What a stream meter reads from one item: the usage it reports, or how much text it carries. */
export type StreamMeter<T> = (item: T) => { usage?: Partial<Usage>; text?: number };

const meterChatChunk: StreamMeter<StreamChunk> = ({ chunk }) => (chunk.usage ? { usage: chunk.usage } : { text: deltaLength(chunk.choices) });

/** Characters of a conversation, for estimating its tokens when a stream ends without usage. */
export function promptCharsOf(messages: readonly { content?: unknown }[]): number {
  let chars = 0;
  for (const message of messages) chars += typeof message.content === 'string' ? message.content.length : JSON.stringify(message.content ?? '').length;
  return chars;
}
