/**
 * Upstream faults not covered elsewhere: each gives the contract's status and a message naming the
 * provider (REST), or ends the stream with an error event instead of a quiet, truncated success.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';

let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
  gw = await startTestGateway({
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'k',
    MISTRAL_API_URL: 'http://127.0.0.1:1/v1', // nothing listens on port 1
    MISTRAL_API_KEY: 'k',
    SERVER_MAX_STREAM_DURATION: '400ms',
  });
});
afterAll(async () => {
  await gw.close();
  await groq.close();
});

const messages = [{ role: 'user', content: 'hi' }];
const stream = async (model: string) =>
  readSseData(await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model, messages, stream: true }) }));

describe('REST JSON', () => {
  it('connection refused → 502 naming the provider', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'mistral/m', messages });
    expect(res.status).toBe(502);
    expect(res.json.error).toBe('mistral: upstream unreachable (connection refused)');
  });

  it('a huge upstream body → 502, not an out-of-memory gateway', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'groq/huge', messages });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatch(/^groq: upstream answer is larger than/);
  });
});

describe('REST SSE', () => {
  it('connection refused before the stream → 502 JSON, no stream', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'mistral/m', messages, stream: true }) });
    expect(res.status).toBe(502);
    expect((await res.json()).error).toMatch(/^mistral: /);
  });

  it('malformed SSE mid-stream → an error event, no [DONE]', async () => {
    const data = await stream('groq/malformed-stream');
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error).toBe('groq: upstream sent a malformed stream chunk');
  });

  it('a stream that never ends is cut at SERVER_MAX_STREAM_DURATION with an error event', async () => {
    const data = await stream('groq/endless-stream');
    expect(data.length).toBeGreaterThan(3); // it really streamed before being cut
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error).toBe('groq: stream ran longer than 400ms');
  });
});
