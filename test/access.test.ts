/**
 * Role-based model access: MODEL_ACCESS_RULES maps Keycloak realm roles and client roles
 * (`client:role`) to model patterns; denied → 403 / FORBIDDEN, on every transport, beside
 * ALLOWED_MODELS / DISALLOWED_MODELS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { ModelsDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { gql, subscribeSse } from './helpers/graphql.js';
import { ChatCompletionStreamDocument } from './generated/graphql.js';

let idp: OidcIssuer;
let groq: FakeProvider;
let openai: FakeProvider;
let gw: TestGateway;

const RULES = {
  'llm-user': ['groq/*'],
  'llm-premium': ['openai/gpt-4o*'],
  'inference-gateway-client:reporting': ['openai/gpt-4o-mini'],
  'llm-admin': ['*'],
};

beforeAll(async () => {
  idp = await startOidcIssuer();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gk', models: ['llama', 'mixtral'] });
  openai = await startFakeProvider({ apiKey: 'ok', models: ['gpt-4o', 'gpt-4o-mini', 'o3'] });
  gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: idp.issuer,
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'gk',
    OPENAI_API_URL: openai.url,
    OPENAI_API_KEY: 'ok',
    DISALLOWED_MODELS: 'groq/mixtral',
    MODEL_ACCESS_RULES: JSON.stringify(RULES),
  });
});
afterAll(async () => {
  await gw.close();
  await Promise.all([groq.close(), openai.close(), idp.close()]);
});

const withRoles = (realm: string[], client: string[] = []) =>
  idp.token({ realm_access: { roles: realm }, resource_access: { 'inference-gateway-client': { roles: client } } });
const chat = async (token: string, model: string) =>
  postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${token}` });

describe('REST', () => {
  it('lets a realm role use the models its patterns match', async () => {
    const user = await withRoles(['llm-user']);
    expect((await chat(user, 'groq/llama')).status).toBe(200);
  });

  it('refuses other models with 403 naming the model and the caller roles', async () => {
    const user = await withRoles(['llm-user', 'offline_access']);
    const served = openai.requests.length;
    const res = await chat(user, 'openai/gpt-4o');
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: "Model 'openai/gpt-4o' is not allowed for roles llm-user" });
    expect(openai.requests.length).toBe(served);
  });

  it('refuses a caller with no role that has rules', async () => {
    const res = await chat(await withRoles(['offline_access']), 'groq/llama');
    expect(res.status).toBe(403);
    expect(res.json.error).toMatch(/no role with model access/);
  });

  it('matches client roles written client:role, and globs', async () => {
    const reporting = await withRoles([], ['reporting']);
    expect((await chat(reporting, 'openai/gpt-4o-mini')).status).toBe(200);
    expect((await chat(reporting, 'openai/gpt-4o')).status).toBe(403);
    const premium = await withRoles(['llm-premium']);
    expect((await chat(premium, 'openai/gpt-4o')).status).toBe(200);
    expect((await chat(premium, 'openai/gpt-4o-mini')).status).toBe(200);
    expect((await chat(premium, 'openai/o3')).status).toBe(403);
  });

  it('unions the rules of several roles', async () => {
    const both = await withRoles(['llm-user', 'llm-premium']);
    expect((await chat(both, 'groq/llama')).status).toBe(200);
    expect((await chat(both, 'openai/gpt-4o')).status).toBe(200);
  });

  it('still applies DISALLOWED_MODELS to a role that would allow the model', async () => {
    const admin = await withRoles(['llm-admin']);
    expect((await chat(admin, 'openai/o3')).status).toBe(200);
    const res = await chat(admin, 'groq/mixtral');
    expect(res.status).toBe(403);
    expect(res.json.error).toBe("Model 'groq/mixtral' is not allowed on this gateway");
  });

  it('lists only the models the caller may use', async () => {
    const list = async (token: string) => {
      const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
      return (await res.json()).data.map((m: { id: string }) => m.id).sort();
    };
    expect(await list(await withRoles(['llm-user']))).toEqual(['groq/llama']);
    expect(await list(await withRoles([], ['reporting']))).toEqual(['openai/gpt-4o-mini']);
    expect(await list(await withRoles(['llm-admin']))).toEqual(['groq/llama', 'openai/gpt-4o', 'openai/gpt-4o-mini', 'openai/o3']);
  });

  it('opens raw /proxy/{provider} only to roles allowed the whole provider', async () => {
    const proxied = async (token: string) => (await fetch(`${gw.url}/proxy/groq/models`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await proxied(await withRoles(['llm-user']))).toBe(200); // groq/*
    expect(await proxied(await withRoles(['llm-admin']))).toBe(200); // *
    const premium = await withRoles(['llm-premium']);
    const res = await fetch(`${gw.url}/proxy/openai/models`, { headers: { authorization: `Bearer ${premium}` } });
    expect(res.status).toBe(403); // openai/gpt-4o* is not all of openai
    expect(await res.json()).toEqual({ error: "Raw access to provider 'openai' needs a role allowed 'openai/*'" });
  });
});

describe('GraphQL', () => {
  it('answers FORBIDDEN for a denied model and filters models', async () => {
    const user = await withRoles(['llm-user']);
    const headers = { authorization: `Bearer ${user}` };
    const res = await gql(gw.url, 'mutation { chatCompletion(input: { model: "openai/o3", messages: [{ role: USER, content: "hi" }] }) { id } }', undefined, headers);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.message).toBe("Model 'openai/o3' is not allowed for roles llm-user");
    const models = await gql(gw.url, ModelsDocument, {}, headers);
    expect(models.data?.models.map((m) => m.id)).toEqual(['groq/llama']);
  });

  it('refuses a denied model on a subscription too', async () => {
    const user = await withRoles(['llm-user']);
    const { events, errors } = await subscribeSse(
      gw.url,
      ChatCompletionStreamDocument,
      { input: { model: 'openai/gpt-4o', messages: [{ role: 'USER' as never, content: 'hi' }] } },
      { authorization: `Bearer ${user}` },
    );
    expect(events.every((e) => !e.data)).toBe(true);
    expect(errors).toEqual([expect.objectContaining({ message: "Model 'openai/gpt-4o' is not allowed for roles llm-user", extensions: { code: 'FORBIDDEN' } })]);
  });
});

describe('configuration', () => {
  it('refuses rules without auth (roles come from tokens) and malformed rules, naming the variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ MODEL_ACCESS_RULES: '{"llm-user":["groq/*"]}' })).toEqual([
      'MODEL_ACCESS_RULES needs ENABLE_AUTH=true: roles come from verified tokens',
    ]);
    expect(problems({ ENABLE_AUTH: 'true', MODEL_ACCESS_RULES: '{"llm-user":"groq/*"}' })[0]).toMatch(/^MODEL_ACCESS_RULES at "llm-user": .*expected e\.g\./);
    expect(problems({ ENABLE_AUTH: 'true', MODEL_ACCESS_RULES: 'groq/*' })[0]).toMatch(/^MODEL_ACCESS_RULES is not valid JSON/);
  });
});
