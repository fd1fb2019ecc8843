/**
 * Environment → typed configuration, parsed and validated once at start-up. Every bad variable is
 * reported together so an operator fixes them in one round, and nothing starts half-configured.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { PROVIDERS, type ProviderSpec } from './providers/catalog.js';

export interface ProviderConfig {
  readonly spec: ProviderSpec;
  readonly url: string;
  readonly apiKey: string | undefined;
  readonly configured: boolean;
}

export interface AuthConfig {
  readonly enabled: boolean;
  readonly issuerUrl: string;
  /** Issuers whose tokens are accepted: the configured one plus `OIDC_ACCEPTED_ISSUERS`. */
  readonly acceptedIssuers: readonly string[];
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly audience: string;
}

/** A subject's own budget; 0 means unlimited, undefined means the default applies. */
export interface LimitOverride {
  readonly rpm?: number;
  readonly tpm?: number;
}

export interface LimitsConfig {
  /** Chat/proxy requests per minute per subject; 0 = unlimited. */
  readonly requestsPerMinute: number;
  /** Tokens (prompt + completion, as the provider reports them) per minute per subject; 0 = unlimited. */
  readonly tokensPerMinute: number;
  readonly overrides: ReadonlyMap<string, LimitOverride>;
  /** Which claim names the subject a budget belongs to: the OAuth client (`azp`, falling back to `sub`) or `sub`. */
  readonly subjectClaim: 'azp' | 'sub';
  /** Shared store for every replica; unset = in-memory, per replica. */
  readonly redisUrl: string | undefined;
  /** Longest a limit check may wait for Redis before the failure mode applies. */
  readonly redisTimeoutMs: number;
  /** With Redis unreachable: `open` lets requests through (logged, counted), `closed` answers 503. */
  readonly failureMode: 'open' | 'closed';
}

export interface Config {
  readonly environment: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly readTimeoutMs: number;
    readonly writeTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly maxRequestBodySize: number;
    /** How long SIGTERM waits for in-flight requests and streams before cutting them. */
    readonly shutdownTimeoutMs: number;
    /** The longest a single stream may run, however steadily it flows. */
    readonly maxStreamDurationMs: number;
  };
  readonly auth: AuthConfig;
  readonly providers: readonly ProviderConfig[];
  readonly allowedModels: readonly string[];
  readonly disallowedModels: readonly string[];
  readonly limits: LimitsConfig;
  /** Role → model patterns (`*`, `groq/*`, `openai/gpt-4o`); empty = no role rules. */
  readonly modelAccess: ReadonlyMap<string, readonly string[]>;
  /** Alias → ordered `provider/model` targets. */
  readonly fallbacks: ReadonlyMap<string, readonly string[]>;
  readonly metricsEnabled: boolean;
  /** Origins whose browsers may call the gateway (`*`: any); empty = no cross-origin access. */
  readonly corsOrigins: readonly string[] | '*';
  /** Trusted documents by sha256 id, from GRAPHQL_PERSISTED_DOCUMENTS; undefined when not set. */
  readonly persistedDocuments: PersistedDocumentsConfig | undefined;
  readonly usage: UsageConfig;
  /** OpenTelemetry traces; undefined = off (no OTLP endpoint set, or switched off). */
  readonly tracing: TracingConfig | undefined;
}

export interface UsageConfig {
  /** `pglite://<dir>` (embedded, one replica), `postgres://…` (shared), or undefined when `off`. */
  readonly databaseUrl: string | undefined;
  /** USD per million tokens by `provider/model` pattern, over the built-in table. */
  readonly prices: Readonly<Record<string, { input: number; output: number; cachedInput?: number }>>;
  /** Per subject and UTC day; 0 = no limit. */
  readonly spendLimitUsdPerDay: number;
  readonly spendLimitOverrides: ReadonlyMap<string, number>;
  /** The role (realm, or `client:role`) that may read everyone's usage. */
  readonly adminRole: string;
  /** Records held while the database is away; past it the oldest are dropped (and counted). */
  readonly bufferSize: number;
  readonly flushIntervalMs: number;
}

/** Read from the standard OTEL_* variables (see README, Tracing). */
export interface TracingConfig {
  /** The full traces URL (`…/v1/traces`). */
  readonly endpoint: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  /** Sent with every export (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS), e.g. a collector's API key. */
  readonly headers: Readonly<Record<string, string>>;
  /** One export's time limit. */
  readonly timeoutMs: number;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: TraceSampler;
  /** The ratio of the `traceidratio` samplers, 0…1. */
  readonly samplerRatio: number;
  /** The batch span processor: spans held for export (past it new spans are dropped), batch size, delay, export timeout. */
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMs: number;
  readonly exportTimeoutMs: number;
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: prompts and completions as span attributes. */
  readonly captureMessageContent: boolean;
}

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export interface PersistedDocumentsConfig {
  readonly path: string;
  /** `allow`: persisted ids and full documents; `only`: persisted ids only. */
  readonly mode: 'allow' | 'only';
  readonly documents: ReadonlyMap<string, string>;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads `.env` from `dir` if present; the real environment wins over the file. */
export function environmentWithDotEnv(env: Env = process.env, dir = process.cwd()): Env {
  let text: string;
  try {
    text = readFileSync(`${dir}/.env`, 'utf8');
  } catch {
    return env;
  }
  return { ...parseEnv(text), ...env };
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/** Go's `time.ParseDuration` subset: `500ms`, `30s`, `1m30s`, `0`. Returns milliseconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  return total;
}

const TRUE = new Set(['1', 't', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'f', 'false', 'no', 'off']);

export function loadConfig(env: Env = environmentWithDotEnv()): Config {
  const problems: string[] = [];

  /** The first set variable among a name and its aliases. */
  const read = (...names: string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== '') return { name, value };
    }
    return undefined;
  };
  const str = (fallback: string, ...names: string[]) => read(...names)?.value ?? fallback;
  const bool = (fallback: boolean, ...names: string[]): boolean => {
    const v = read(...names);
    if (!v) return fallback;
    const lower = v.value.trim().toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    problems.push(`${v.name}=${JSON.stringify(v.value)} is not a boolean (use true or false)`);
    return fallback;
  };
  const duration = (fallback: string, name: string): number => {
    const raw = env[name] || fallback;
    const ms = parseDuration(raw);
    if (ms === undefined) {
      problems.push(`${name}=${JSON.stringify(raw)} is not a duration (use e.g. 500ms, 30s, 2m)`);
      return parseDuration(fallback)!;
    }
    return ms;
  };
  const integer = (fallback: number, name: string, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
  const url = (fallback: string, ...names: string[]): string => {
    const v = read(...names);
    if (!v) return fallback;
    const value = v.value.trim().replace(/\/+$/, '');
    if (!isHttpUrl(value)) problems.push(`${v.name}=${JSON.stringify(v.value)} is not an http(s) URL`);
    return value;
  };
  const list = (name: string): string[] =>
    (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);

  const issuerUrl = url('http://keycloak:8080/realms/inference-gateway-realm', 'OIDC_ISSUER_URL', 'AUTH_OIDC_ISSUER');
  const acceptedIssuers = [issuerUrl];
  for (const extra of (read('OIDC_ACCEPTED_ISSUERS', 'AUTH_OIDC_ACCEPTED_ISSUERS')?.value ?? '').split(',')) {
    const value = extra.trim().replace(/\/+$/, '');
    if (!value) continue;
    if (!isHttpUrl(value)) problems.push(`OIDC_ACCEPTED_ISSUERS entry ${JSON.stringify(value)} is not an http(s) URL`);
    else if (!acceptedIssuers.includes(value)) acceptedIssuers.push(value);
  }
  const clientId = str('inference-gateway-client', 'OIDC_CLIENT_ID', 'AUTH_OIDC_CLIENT_ID');

  const providers = PROVIDERS.map((spec): ProviderConfig => {
    const apiKey = read(`${spec.envPrefix}_API_KEY`)?.value;
    const urlVar = read(`${spec.envPrefix}_API_URL`);
    const providerUrl = url(spec.defaultUrl, `${spec.envPrefix}_API_URL`);
    const configured = apiKey !== undefined || (spec.keyless === true && urlVar !== undefined);
    if (configured && providerUrl.includes('{')) {
      problems.push(`${spec.envPrefix}_API_URL must be set with the placeholder filled in (now ${providerUrl})`);
    }
    return { spec, url: providerUrl, apiKey, configured };
  });

  /** A JSON-valued variable checked against a schema; each problem names the variable and the path. */
  const json = <T>(name: string, schema: z.ZodType<T>, example: string): T | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push(`${name} is not valid JSON (expected e.g. ${example})`);
      return undefined;
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const at = issue.path.length > 0 ? ` at ${issue.path.map((p) => JSON.stringify(p)).join('.')}` : '';
        problems.push(`${name}${at}: ${issue.message} (expected e.g. ${example})`);
      }
      return undefined;
    }
    return result.data;
  };
  const enumerated = <T extends string>(fallback: T, name: string, values: readonly T[]): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const lower = raw.trim().toLowerCase() as T;
    if (values.includes(lower)) return lower;
    problems.push(`${name}=${JSON.stringify(raw)} must be one of ${values.join(', ')}`);
    return fallback;
  };

  const redisUrl = read('REDIS_URL')?.value.trim();
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    problems.push(`REDIS_URL must be a redis:// or rediss:// URL (e.g. redis://redis:6379/0)`);
  }
  const budget = z.number().int().min(0).max(2 ** 31 - 1);
  const overrides = json(
    'RATE_LIMIT_OVERRIDES',
    z.record(z.string().min(1), z.strictObject({ rpm: budget.optional(), tpm: budget.optional() })),
    '{"reporting-bot":{"rpm":10,"tpm":20000}}',
  );
  const modelAccess = json(
    'MODEL_ACCESS_RULES',
    z.record(z.string().min(1), z.array(z.string().regex(/^[^\s,]+$/, 'a pattern is a model name, provider/model or a glob with *')).min(1)),
    '{"llm-user":["groq/*"],"llm-admin":["*"]}',
  );
  const fallbacks = json(
    'MODEL_FALLBACKS',
    z.record(z.string().min(1), z.array(z.string().regex(/^[^/\s]+\/\S+$/, 'each target is provider/model')).min(1)),
    '{"smart":["openai/gpt-4o","anthropic/claude-sonnet-4-5"]}',
  );
  for (const [alias, targets] of Object.entries(fallbacks ?? {})) {
    for (const target of targets) {
      const id = target.slice(0, target.indexOf('/')).toLowerCase();
      const provider = providers.find((p) => p.spec.id === id);
      if (!provider) problems.push(`MODEL_FALLBACKS: alias ${JSON.stringify(alias)} names unknown provider '${id}' in ${JSON.stringify(target)}`);
      else if (!provider.configured) {
        problems.push(`MODEL_FALLBACKS: alias ${JSON.stringify(alias)} targets ${JSON.stringify(target)}, but provider '${id}' is not configured (set ${provider.spec.envPrefix}_API_KEY)`);
      }
    }
  }
  const authEnabled = bool(false, 'ENABLE_AUTH', 'AUTH_ENABLED');
  if (modelAccess && !authEnabled) {
    problems.push('MODEL_ACCESS_RULES needs ENABLE_AUTH=true: roles come from verified tokens');
  }

  const corsOrigins = readCorsOrigins(read('CORS_ALLOWED_ORIGINS')?.value, problems);
  const persistedPath = read('GRAPHQL_PERSISTED_DOCUMENTS')?.value.trim() || undefined;
  const persistedMode = enumerated('allow', 'GRAPHQL_PERSISTED_DOCUMENTS_MODE', ['allow', 'only'] as const);
  if (!persistedPath && env.GRAPHQL_PERSISTED_DOCUMENTS_MODE) problems.push('GRAPHQL_PERSISTED_DOCUMENTS_MODE needs GRAPHQL_PERSISTED_DOCUMENTS (the file of trusted documents)');
  const documents = persistedPath ? readPersistedDocuments(persistedPath, problems) : undefined;
  const usageUrl = str('pglite://./data/usage', 'USAGE_DATABASE_URL').trim();
  if (usageUrl !== 'off' && !/^(pglite:\/\/.+|postgres(ql)?:\/\/\S+)$/.test(usageUrl)) {
    problems.push(`USAGE_DATABASE_URL must be pglite://<directory>, postgres://user:password@host:5432/db or off (now ${JSON.stringify(usageUrl)})`);
  }
  const usd = z.number().finite().min(0);
  const prices = json(
    'MODEL_PRICES',
    z.record(z.string().regex(/^[^\s/]+\/\S+$/, 'a pattern is provider/model, globs (*) allowed'), z.strictObject({ input: usd, output: usd, cachedInput: usd.optional() })),
    '{"openai/gpt-4o":{"input":2.5,"output":10,"cachedInput":1.25},"groq/*":{"input":0.05,"output":0.08}}',
  );
  const spendOverrides = json('SPEND_LIMIT_OVERRIDES', z.record(z.string().min(1), usd), '{"reporting-bot":5,"ci":0}');
  const spendRaw = env.SPEND_LIMIT_USD_PER_DAY;
  const spendLimit = spendRaw === undefined || spendRaw === '' ? 0 : Number(spendRaw);
  if (!Number.isFinite(spendLimit) || spendLimit < 0) problems.push(`SPEND_LIMIT_USD_PER_DAY=${JSON.stringify(spendRaw)} must be a number of dollars, 0 or more (e.g. 5 or 12.50)`);

  const tracing = readTracing(env, problems, { bool, integer, enumerated });

  const config: Config = {
    environment: str('production', 'ENVIRONMENT'),
    server: {
      host: str('127.0.0.1', 'SERVER_HOST'),
      port: integer(8080, 'SERVER_PORT', 0, 65535),
      readTimeoutMs: duration('30s', 'SERVER_READ_TIMEOUT'),
      writeTimeoutMs: duration('30s', 'SERVER_WRITE_TIMEOUT'),
      idleTimeoutMs: duration('120s', 'SERVER_IDLE_TIMEOUT'),
      maxRequestBodySize: integer(10 * 1024 * 1024, 'SERVER_MAX_REQUEST_BODY_SIZE', 1, 2 ** 31),
      shutdownTimeoutMs: duration('30s', 'SERVER_SHUTDOWN_TIMEOUT'),
      maxStreamDurationMs: duration('10m', 'SERVER_MAX_STREAM_DURATION'),
    },
    auth: {
      enabled: authEnabled,
      issuerUrl,
      acceptedIssuers,
      clientId,
      clientSecret: read('OIDC_CLIENT_SECRET', 'AUTH_OIDC_CLIENT_SECRET')?.value,
      audience: str(clientId, 'OIDC_AUDIENCE', 'AUTH_OIDC_AUDIENCE'),
    },
    providers,
    allowedModels: list('ALLOWED_MODELS'),
    disallowedModels: list('DISALLOWED_MODELS'),
    limits: {
      requestsPerMinute: integer(0, 'RATE_LIMIT_REQUESTS_PER_MINUTE', 0, 2 ** 31 - 1),
      tokensPerMinute: integer(0, 'RATE_LIMIT_TOKENS_PER_MINUTE', 0, 2 ** 31 - 1),
      overrides: new Map(Object.entries(overrides ?? {})),
      subjectClaim: enumerated('azp', 'RATE_LIMIT_SUBJECT_CLAIM', ['azp', 'sub'] as const),
      redisUrl,
      redisTimeoutMs: duration('500ms', 'REDIS_TIMEOUT'),
      failureMode: enumerated('open', 'RATE_LIMIT_FAILURE_MODE', ['open', 'closed'] as const),
    },
    modelAccess: new Map(Object.entries(modelAccess ?? {})),
    fallbacks: new Map(Object.entries(fallbacks ?? {})),
    metricsEnabled: bool(true, 'METRICS_ENABLED'),
    corsOrigins,
    persistedDocuments: persistedPath && documents ? { path: persistedPath, mode: persistedMode, documents } : undefined,
    usage: {
      databaseUrl: usageUrl === 'off' ? undefined : usageUrl,
      prices: prices ?? {},
      spendLimitUsdPerDay: Number.isFinite(spendLimit) && spendLimit > 0 ? spendLimit : 0,
      spendLimitOverrides: new Map(Object.entries(spendOverrides ?? {})),
      adminRole: str('gateway-admin', 'USAGE_ADMIN_ROLE'),
      bufferSize: integer(10_000, 'USAGE_BUFFER_SIZE', 1, 10_000_000),
      flushIntervalMs: duration('1s', 'USAGE_FLUSH_INTERVAL'),
    },
    tracing,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

interface Readers {
  bool(fallback: boolean, ...names: string[]): boolean;
  integer(fallback: number, name: string, min: number, max: number): number;
  enumerated<T extends string>(fallback: T, name: string, values: readonly T[]): T;
}

/**
 * The OpenTelemetry SDK's standard variables. Tracing is off unless an OTLP endpoint is set (and
 * OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none don't switch it off): then the SDK is not even loaded.
 * They are read here rather than by the SDK itself so that `.env` applies to them too and a bad value
 * stops start-up like any other.
 */
function readTracing(env: Env, problems: string[], { bool, integer, enumerated }: Readers): TracingConfig | undefined {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter !== '' && exporter !== 'otlp' && exporter !== 'none') {
    problems.push(`OTEL_TRACES_EXPORTER=${JSON.stringify(env.OTEL_TRACES_EXPORTER)} is not supported: use otlp (the default) or none`);
  }
  const protocolName = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocolRaw = (env[protocolName] ?? '').trim();
  let protocol: TracingConfig['protocol'] = 'http/protobuf';
  if (protocolRaw === 'http/json') protocol = 'http/json';
  else if (protocolRaw !== '' && protocolRaw !== 'http/protobuf') {
    const hint = protocolRaw === 'grpc' ? ' (gRPC is not supported: point it at the collector\'s OTLP/HTTP port, 4318)' : '';
    problems.push(`${protocolName}=${JSON.stringify(protocolRaw)} must be http/protobuf or http/json${hint}`);
  }
  let endpoint: string | undefined;
  if (tracesEndpoint) {
    if (!isHttpUrl(tracesEndpoint)) problems.push(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${JSON.stringify(tracesEndpoint)} is not an http(s) URL`);
    endpoint = tracesEndpoint;
  } else if (baseEndpoint) {
    if (!isHttpUrl(baseEndpoint)) problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT=${JSON.stringify(baseEndpoint)} is not an http(s) URL`);
    // The spec: the signal's path is appended to the base endpoint.
    endpoint = `${baseEndpoint.replace(/\/+$/, '')}/v1/traces`;
  }
  const sampler = enumerated('parentbased_always_on', 'OTEL_TRACES_SAMPLER', TRACE_SAMPLERS);
  const ratioRaw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  let samplerRatio = 1;
  if (ratioRaw) {
    samplerRatio = Number(ratioRaw);
    if (!Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1) {
      problems.push(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(ratioRaw)} must be a number from 0 to 1 (the share of traces kept)`);
      samplerRatio = 1;
    }
  }
  const headers = keyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS', env, problems);
  const resourceAttributes = keyValues('OTEL_RESOURCE_ATTRIBUTES', env, problems);
  const timeoutName = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const config: TracingConfig = {
    endpoint: endpoint ?? '',
    protocol,
    headers,
    timeoutMs: integer(10_000, timeoutName, 1, 600_000),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || 'graphql-inference-gateway',
    resourceAttributes,
    sampler,
    samplerRatio,
    maxQueueSize: integer(2048, 'OTEL_BSP_MAX_QUEUE_SIZE', 1, 1_000_000),
    maxExportBatchSize: integer(512, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, 1_000_000),
    scheduledDelayMs: integer(5000, 'OTEL_BSP_SCHEDULE_DELAY', 0, 3_600_000),
    exportTimeoutMs: integer(30_000, 'OTEL_BSP_EXPORT_TIMEOUT', 1, 3_600_000),
    captureMessageContent: bool(false, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'),
  };
  if (config.maxExportBatchSize > config.maxQueueSize) {
    problems.push(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${config.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${config.maxQueueSize})`);
  }
  const disabled = bool(false, 'OTEL_SDK_DISABLED');
  if (!endpoint || disabled || exporter === 'none') return undefined;
  return config;
}

/** The OTel `key=value,key2=value2` lists (values percent-encoded), as in OTEL_EXPORTER_OTLP_HEADERS. */
function keyValues(name: string, env: Env, problems: string[]): Record<string, string> {
  const raw = env[name]?.trim();
  const pairs: Record<string, string> = {};
  if (!raw) return pairs;
  for (const item of raw.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (!key) {
      // The value itself is not repeated: it may hold a collector's API key.
      problems.push(`${name}: an entry is not key=value (use e.g. api-key=…,team=ml)`);
      continue;
    }
    try {
      pairs[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: the value of ${JSON.stringify(key)} has malformed percent-encoding`);
    }
  }
  return pairs;
}

/** `*`, or a comma list of origins (`scheme://host[:port]`, a trailing slash tolerated). */
function readCorsOrigins(raw: string | undefined, problems: string[]): readonly string[] | '*' {
  if (raw === undefined || raw.trim() === '') return [];
  if (raw.trim() === '*') return '*';
  const origins: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) {
      problems.push(`CORS_ALLOWED_ORIGINS: ${JSON.stringify(item)} is not an origin (scheme://host[:port], e.g. https://app.example.com)`);
    } else origins.push(url.origin);
  }
  return origins;
}

/**
 * GraphQL Code Generator's `persisted-documents.json`: `{"<sha256 hex of the document>": "<document>"}`
 * (hex optionally prefixed `sha256:`, as the client preset writes it).
 * Read once at start-up; an id that is not its document's hash is refused, so a stale file fails fast.
 */
function readPersistedDocuments(path: string, problems: string[]): ReadonlyMap<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`GRAPHQL_PERSISTED_DOCUMENTS: cannot read ${path} as JSON (${(error as Error).message})`);
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`GRAPHQL_PERSISTED_DOCUMENTS: ${path} must hold a JSON object {"<sha256>": "<document>"}`);
    return undefined;
  }
  const documents = new Map<string, string>();
  for (const [key, document] of Object.entries(parsed)) {
    // The client preset writes `sha256:<hex>` (the GraphQL-over-HTTP documentId form); bare hex is taken too.
    const id = key.startsWith('sha256:') ? key.slice(7) : key;
    if (typeof document !== 'string' || !/^[0-9a-f]{64}$/.test(id)) {
      problems.push(`GRAPHQL_PERSISTED_DOCUMENTS: entry ${JSON.stringify(id.slice(0, 80))} must map a sha256 hex id to a document string`);
      continue;
    }
    if (createHash('sha256').update(document).digest('hex') !== id) {
      problems.push(`GRAPHQL_PERSISTED_DOCUMENTS: ${id} is not the sha256 of its document (regenerate ${path})`);
      continue;
    }
    documents.set(id, document);
  }
  return documents;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
