/**
 * Environment → typed configuration, parsed and validated once at start-up. Every bad variable is
 * reported together so an operator fixes them in one round, and nothing starts half-configured.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
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
      enabled: bool(false, 'ENABLE_AUTH', 'AUTH_ENABLED'),
      issuerUrl,
      acceptedIssuers,
      clientId,
      clientSecret: read('OIDC_CLIENT_SECRET', 'AUTH_OIDC_CLIENT_SECRET')?.value,
      audience: str(clientId, 'OIDC_AUDIENCE', 'AUTH_OIDC_AUDIENCE'),
    },
    providers,
    allowedModels: list('ALLOWED_MODELS'),
    disallowedModels: list('DISALLOWED_MODELS'),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
