/**
 * The gateway's own logic, shared by the REST shim and the GraphQL API: which provider serves a
 * request, whether the model is allowed, and fan-out over providers. Neither edge re-implements it.
 */
import { setMaxListeners } from 'node:events';
import type { Config } from './config.js';
import { BadRequestError, ForbiddenError, NotFoundError } from './errors.js';
import type { Logger } from './logger.js';
import { Provider } from './providers/provider.js';
import type { ChatRequest, Model, StreamChunk } from './providers/types.js';

export interface Route {
  readonly provider: Provider;
  /** The model name as the provider knows it (no `provider/` prefix). */
  readonly model: string;
}

export class Gateway {
  readonly providers: ReadonlyMap<string, Provider>;
  private readonly allowed: ReadonlySet<string>;
  private readonly disallowed: ReadonlySet<string>;

  constructor(config: Config, private readonly logger: Logger) {
    const timeouts = {
      readTimeoutMs: config.server.readTimeoutMs,
      streamIdleTimeoutMs: config.server.writeTimeoutMs,
      maxStreamDurationMs: config.server.maxStreamDurationMs,
    };
    this.providers = new Map(config.providers.map((p) => [p.spec.id, new Provider(p, timeouts)]));
    this.allowed = new Set(config.allowedModels);
    this.disallowed = new Set(config.disallowedModels);
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
  route(model: unknown, providerId?: string | null): Route {
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
      throw new BadRequestError(
        `Cannot tell which provider serves model '${model}': use 'provider/model' (e.g. groq/llama-3.3-70b-versatile) ` +
          `or the provider parameter. Configured providers: ${this.configuredProviders().map((p) => p.id).join(', ') || 'none'}`,
      );
    }
    if (!route.model) throw new BadRequestError(`Model name is missing after '${route.provider.id}/'`);
    if (!this.isAllowed(route.provider.id, route.model)) {
      throw new ForbiddenError(`Model '${route.provider.id}/${route.model}' is not allowed on this gateway`);
    }
    return route;
  }

  isAllowed(provider: string, model: string): boolean {
    const full = `${provider}/${model}`;
    if (this.disallowed.has(full) || this.disallowed.has(model)) return false;
    return this.allowed.size === 0 || this.allowed.has(full) || this.allowed.has(model);
  }

  /** One provider's models, or every configured provider's in parallel (failures left out, logged). */
  async listModels(providerId?: string | null, signal?: AbortSignal): Promise<Model[]> {
    const providers = providerId ? [this.provider(providerId)] : this.configuredProviders();
    if (providerId) return this.allowedModels(await providers[0]!.listModels(signal));
    // Every provider's request listens on the caller's one signal.
    if (signal) setMaxListeners(providers.length * 2 + 10, signal);
    const results = await Promise.allSettled(providers.map((p) => p.listModels(signal)));
    const models: Model[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') models.push(...result.value);
      else this.logger.warn({ provider: providers[i]!.id, err: result.reason?.message }, 'listing models failed');
    });
    return this.allowedModels(models);
  }

  async chat(request: ChatRequest, providerId?: string | null, signal?: AbortSignal) {
    const route = this.route(request.model, providerId);
    const { completion, raw } = await route.provider.chat(request, route.model, signal);
    return { provider: route.provider, completion, raw };
  }

  async chatStream(request: ChatRequest, providerId?: string | null, signal?: AbortSignal) {
    const route = this.route(request.model, providerId);
    const chunks: AsyncGenerator<StreamChunk> = await route.provider.chatStream(request, route.model, signal);
    return { provider: route.provider, chunks };
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close()));
  }

  private allowedModels(models: Model[]): Model[] {
    if (this.allowed.size === 0 && this.disallowed.size === 0) return models;
    return models.filter((m) => this.isAllowed(m.served_by, m.id.slice(m.served_by.length + 1)));
  }
}
