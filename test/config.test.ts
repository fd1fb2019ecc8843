import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, environmentWithDotEnv, loadConfig, parseDuration } from '../src/config.js';

describe('defaults', () => {
  const config = loadConfig({});
  it('match the contract', () => {
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      readTimeoutMs: 30_000,
      writeTimeoutMs: 30_000,
      idleTimeoutMs: 120_000,
      maxRequestBodySize: 10_485_760,
      shutdownTimeoutMs: 30_000,
      maxStreamDurationMs: 600_000,
    });
    expect(config.auth).toMatchObject({
      enabled: false,
      issuerUrl: 'http://keycloak:8080/realms/inference-gateway-realm',
      clientId: 'inference-gateway-client',
      audience: 'inference-gateway-client',
    });
    expect(config.environment).toBe('production');
  });

  it('configure no provider, with each default base URL', () => {
    expect(config.providers.filter((p) => p.configured)).toEqual([]);
    const urls = Object.fromEntries(config.providers.map((p) => [p.spec.id, p.url]));
    expect(urls).toMatchObject({
      openai: 'https://api.openai.com/v1',
      anthropic: 'https://api.anthropic.com/v1',
      groq: 'https://api.groq.com/openai/v1',
      ollama: 'http://ollama:8080/v1',
      cohere: 'https://api.cohere.ai',
      deepseek: 'https://api.deepseek.com',
      zai: 'https://api.z.ai/api/paas/v4',
      llamacpp: 'http://llamacpp:8080/v1',
    });
    expect(config.providers).toHaveLength(15);
  });
});

describe('providers', () => {
  it('count as configured when their key is set', () => {
    const config = loadConfig({ GROQ_API_KEY: 'k' });
    expect(config.providers.filter((p) => p.configured).map((p) => p.spec.id)).toEqual(['groq']);
  });

  it('count as configured when keyless and their URL is set', () => {
    const config = loadConfig({ OLLAMA_API_URL: 'http://localhost:11434/v1', LLAMACPP_API_URL: 'http://x:8080/v1' });
    expect(config.providers.filter((p) => p.configured).map((p) => p.spec.id)).toEqual(['ollama', 'llamacpp']);
  });

  it('refuse a configured Cloudflare whose URL still has the account placeholder', () => {
    expect(() => loadConfig({ CLOUDFLARE_API_KEY: 'k' })).toThrow(/CLOUDFLARE_API_URL must be set/);
  });
});

describe('aliases', () => {
  it("accept the Inference Gateway's newer names", () => {
    const config = loadConfig({
      AUTH_ENABLED: 'true',
      AUTH_OIDC_ISSUER: 'http://idp.example/realms/r',
      AUTH_OIDC_CLIENT_ID: 'cid',
      AUTH_OIDC_CLIENT_SECRET: 's',
    });
    expect(config.auth).toMatchObject({ enabled: true, issuerUrl: 'http://idp.example/realms/r', clientId: 'cid', audience: 'cid', clientSecret: 's' });
  });

  it('prefer the seed name when both are set', () => {
    expect(loadConfig({ ENABLE_AUTH: 'false', AUTH_ENABLED: 'true' }).auth.enabled).toBe(false);
  });

  it('take OIDC_AUDIENCE over the client id', () => {
    expect(loadConfig({ OIDC_CLIENT_ID: 'a', OIDC_AUDIENCE: 'b' }).auth.audience).toBe('b');
  });

  it('add OIDC_ACCEPTED_ISSUERS to the accepted issuers', () => {
    const config = loadConfig({ OIDC_ISSUER_URL: 'http://keycloak:8080/realms/r', OIDC_ACCEPTED_ISSUERS: 'http://localhost:8080/realms/r/' });
    expect(config.auth.acceptedIssuers).toEqual(['http://keycloak:8080/realms/r', 'http://localhost:8080/realms/r']);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    ['0', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['30', 'abc', '10 s', '-5s', '5x'])('rejects %s', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('invalid configuration', () => {
  it('names every bad variable in one error', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        SERVER_READ_TIMEOUT: 'soon',
        ENABLE_AUTH: 'maybe',
        OPENAI_API_URL: 'not a url',
        SERVER_PORT: '99999',
        SERVER_MAX_REQUEST_BODY_SIZE: '-1',
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(5);
    const text = error!.message;
    for (const name of ['SERVER_READ_TIMEOUT', 'ENABLE_AUTH', 'OPENAI_API_URL', 'SERVER_PORT', 'SERVER_MAX_REQUEST_BODY_SIZE']) {
      expect(text).toContain(name);
    }
  });

  it('stops start-up with the message and a non-zero exit, listening on nothing', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, SERVER_WRITE_TIMEOUT: '10 seconds', GROQ_API_URL: 'ftp://x', SERVER_PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('SERVER_WRITE_TIMEOUT');
    expect(result.stderr).toContain('GROQ_API_URL');
    expect(result.stdout).not.toContain('listening');
  });
});

describe('.env', () => {
  it('is read from the working directory, and the real environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-env-'));
    writeFileSync(join(dir, '.env'), 'GROQ_API_KEY=from-file\nSERVER_PORT=9090\n# comment\nENVIRONMENT="development"\n');
    const env = environmentWithDotEnv({ SERVER_PORT: '7070' }, dir);
    const config = loadConfig(env);
    expect(config.server.port).toBe(7070);
    expect(config.environment).toBe('development');
    expect(config.providers.find((p) => p.spec.id === 'groq')!.apiKey).toBe('from-file');
  });

  it('is optional', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-noenv-'));
    expect(environmentWithDotEnv({ A: '1' }, dir)).toEqual({ A: '1' });
  });
});
