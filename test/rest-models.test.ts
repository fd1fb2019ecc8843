import { afterEach, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, startTestGateway, type TestGateway } from './helpers/gateway.js';

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});
async function fake(...args: Parameters<typeof startFakeProvider>): Promise<FakeProvider> {
  const f = await startFakeProvider(...args);
  running.push(f);
  return f;
}
async function gateway(env: Record<string, string>): Promise<TestGateway> {
  const g = await startTestGateway(env);
  running.unshift(g);
  return g;
}

describe('GET /v1/models fan-out', () => {
  it('leaves a failing provider out, logs it, and still answers 200', async () => {
    const openai = await fake({ apiKey: 'k1', models: ['gpt-4o'] });
    const groq = await fake({ apiKey: 'right-key', models: ['llama'] });
    const gw = await gateway({
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'k1',
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'wrong-key', // the fake answers 401
      MISTRAL_API_URL: 'http://127.0.0.1:1/v1', // nothing listens there
      MISTRAL_API_KEY: 'k3',
    });
    const res = await fetch(`${gw.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.data.map((m: any) => m.id)).toEqual(['openai/gpt-4o']);
    expect(gw.logs()).toMatch(/"provider":"groq"/);
    expect(gw.logs()).toMatch(/"provider":"mistral"/);
    expect(gw.logs()).not.toContain('wrong-key');
  });

  it("keeps a single provider's failure status when it is asked for by name", async () => {
    const groq = await fake({ apiKey: 'right-key' });
    const gw = await gateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'wrong-key' });
    const res = await fetch(`${gw.url}/v1/models?provider=groq`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'groq: Incorrect API key provided' });
  });

  it('answers an empty list when no provider is configured', async () => {
    const gw = await gateway({});
    expect(await (await fetch(`${gw.url}/v1/models`)).json()).toEqual({ object: 'list', data: [] });
  });
});

describe('ALLOWED_MODELS / DISALLOWED_MODELS', () => {
  it('lists and serves only allowed models, by full or bare name', async () => {
    const openai = await fake({ apiKey: 'k', models: ['gpt-4o', 'gpt-4o-mini', 'o3'] });
    const gw = await gateway({ OPENAI_API_URL: openai.url, OPENAI_API_KEY: 'k', ALLOWED_MODELS: 'openai/gpt-4o, o3' });
    const body = await (await fetch(`${gw.url}/v1/models`)).json();
    expect(body.data.map((m: any) => m.id)).toEqual(['openai/gpt-4o', 'openai/o3']);
    const messages = [{ role: 'user', content: 'hi' }];
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/o3', messages })).status).toBe(200);
    const denied = await postJson(`${gw.url}/v1/chat/completions`, { model: 'openai/gpt-4o-mini', messages });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toBe("Model 'openai/gpt-4o-mini' is not allowed on this gateway");
  });

  it('hides and refuses disallowed models; deny wins over allow', async () => {
    const openai = await fake({ apiKey: 'k', models: ['gpt-4o', 'gpt-4o-mini'] });
    const gw = await gateway({
      OPENAI_API_URL: openai.url,
      OPENAI_API_KEY: 'k',
      ALLOWED_MODELS: 'gpt-4o,gpt-4o-mini',
      DISALLOWED_MODELS: 'openai/gpt-4o-mini',
    });
    const body = await (await fetch(`${gw.url}/v1/models`)).json();
    expect(body.data.map((m: any) => m.id)).toEqual(['openai/gpt-4o']);
    const before = openai.requests.length;
    const denied = await postJson(`${gw.url}/v1/chat/completions?provider=openai`, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(denied.status).toBe(403);
    expect(openai.requests.length).toBe(before);
  });
});

describe('GET /health', () => {
  it('answers {"message":"OK"}', async () => {
    const gw = await gateway({});
    const res = await fetch(`${gw.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: 'OK' });
  });
});
