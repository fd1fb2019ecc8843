/**
 * Liveness and readiness on the running gateway (the Deployment's probes, k8s/base/inference-gateway):
 * /health/live answers whenever the process does; /health/ready says whether this replica should get
 * traffic: not before the issuer's signing keys are loaded (auth on), not while draining. Neither needs
 * a token, and the contract's /health stays as it was.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer } from './fakes/oidc-issuer.js';
import { startTestGateway } from './helpers/gateway.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

async function get(url: string): Promise<{ status: number; body: unknown; cacheControl: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), cacheControl: res.headers.get('cache-control') };
}

/** Polls until `check` passes or `ms` runs out; returns the last answer either way. */
async function eventually<T>(probe: () => Promise<T>, check: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('auth off', () => {
  it('live and ready answer 200 {"message":"OK"}, uncached; /health is unchanged', async () => {
    const gw = await startTestGateway({});
    cleanup.push(() => gw.close());
    for (const path of ['/health/live', '/health/ready']) {
      expect(await get(`${gw.url}${path}`), path).toEqual({ status: 200, body: { message: 'OK' }, cacheControl: 'no-store' });
    }
    const health = await fetch(`${gw.url}/health`);
    expect([health.status, await health.json()]).toEqual([200, { message: 'OK' }]);
  });
});

describe('auth on', () => {
  it('is ready at once when the issuer answers, without a token', async () => {
    const idp = await startOidcIssuer();
    cleanup.push(() => idp.close());
    const gw = await startTestGateway({ ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer });
    cleanup.push(() => gw.close());
    expect(await get(`${gw.url}/health/ready`)).toMatchObject({ status: 200, body: { message: 'OK' } });
    expect((await get(`${gw.url}/health/live`)).status).toBe(200);
  });

  it('is not ready (503, reason signing-keys) while the issuer is down, alive all along, and ready once the keys load', async () => {
    const idp = await startOidcIssuer();
    cleanup.push(() => idp.close());
    idp.setDown(true);
    const gw = await startTestGateway({ ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer });
    cleanup.push(() => gw.close());

    const ready = () => get(`${gw.url}/health/ready`);
    const before = await ready();
    expect(before.status).toBe(503);
    expect(before.body).toEqual({ error: "Not ready: the identity provider's signing keys are not loaded yet", reason: 'signing-keys' });
    expect(await get(`${gw.url}/health/live`)).toMatchObject({ status: 200, body: { message: 'OK' } });
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    const fetchesWhileDown = idp.jwksFetches;

    idp.setDown(false);
    // The probes themselves retry the fetch (at most once per 2 s while the issuer fails).
    const after = await eventually(ready, (r) => r.status === 200, 8_000);
    expect(after).toMatchObject({ status: 200, body: { message: 'OK' } });
    expect(idp.jwksFetches).toBeGreaterThan(fetchesWhileDown);
    // Once loaded, the keys are kept: an issuer outage no longer makes the replica unready.
    idp.setDown(true);
    expect((await ready()).status).toBe(200);
  });
});

describe('draining after SIGTERM', () => {
  it('answers ready 503 (reason draining) and live 200 on a connection still open, while a stream finishes', async () => {
    const groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
    cleanup.push(() => groq.close());
    const gw = await startTestGateway({ GROQ_API_URL: groq.url, GROQ_API_KEY: 'k' });
    cleanup.push(() => gw.close());
    expect((await get(`${gw.url}/health/ready`)).status).toBe(200);

    // A stream keeps the drain going; the probes travel on a second connection that is busy (a request
    // whose body has not arrived yet) when the shutdown starts, so it stays open.
    const stream = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'groq/slow-stream', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(stream.status).toBe(200);
    const streamBody = stream.text().catch(() => '');
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    cleanup.push(async () => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = gw.shutdown(3_000);
    await expect(fetch(`${gw.url}/health/ready`), 'new connections are refused').rejects.toThrow();
    socket.write('{}GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const answers = await eventually(
      async () => received.split(/(?=HTTP\/1\.1 )/).filter((r) => r.startsWith('HTTP/1.1 ')),
      (r) => r.length >= 3,
      2_000,
    );
    expect(answers, received).toHaveLength(3);
    const [, ready, live] = answers.map((r) => ({ status: Number(r.slice(9, 12)), body: JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)) as unknown }));
    expect(ready).toEqual({ status: 503, body: { error: 'Not ready: shutting down (draining in-flight requests)', reason: 'draining' } });
    expect(live).toEqual({ status: 200, body: { message: 'OK' } });
    await stopped;
    await streamBody;
  });
});
