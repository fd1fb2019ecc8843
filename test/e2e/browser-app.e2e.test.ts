/**
 * A browser app end to end on the real Keycloak (our realm imported) and the real gateway: what a
 * single-page app at http://localhost:5173 (a dev server's usual origin, the web client's redirect
 * URI) does, in Debian's Chromium driven by playwright-core.
 *
 * The app is one inline HTML page with a plain script (no framework, no CDN), served from a
 * loopback `node:http` server. It signs in through Keycloak's real login form with the public
 * client `inference-gateway-web`: authorization code + PKCE S256 (verifier and challenge made with
 * crypto.subtle in the page), the code redeemed by the page's own fetch to the token endpoint. With
 * that token it calls the gateway, which runs on another port (so every call is cross-origin and
 * preflighted): the chatCompletion mutation over POST /graphql, the chatCompletionStream
 * subscription over SSE, and a streamed REST chat completion. It writes each outcome into the DOM;
 * the test waits for that DOM state (never a fixed sleep) and reads it.
 *
 * Then the same page served from another loopback port (an origin not in CORS_ALLOWED_ORIGINS),
 * handed the token in its URL fragment, must be refused by the browser: its fetch fails with a
 * TypeError, while the same token from Node (no CORS there) still gets in.
 *
 * Requests are not intercepted with Playwright's `route`: while routing is on, Playwright answers
 * every CORS preflight itself (204, allowing whatever was asked), so the gateway's preflight
 * handling would never be exercised. Non-loopback traffic is cut instead by a dead proxy (Chromium
 * bypasses proxies for loopback by itself), and every request the pages make is recorded.
 */
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeycloak, type RunningKeycloak } from '../../scripts/keycloak.js';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
/** Port 9 (discard) on loopback: nothing answers, so anything sent through this proxy fails at once. */
const DEAD_PROXY = 'http://127.0.0.1:9';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  `--proxy-server=${DEAD_PROXY}`,
];
const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
/** How long to wait for the page to react (render, network round trip); never a fixed sleep. */
const UI_TIMEOUT = 15_000;
// A cold cache downloads Keycloak and builds its DB template before the first start.
const START_TIMEOUT_MS = 480_000;

/** The web client's redirect URIs name this port: the app must be served there. */
const APP_PORT = 5173;
const APP_ORIGIN = `http://localhost:${APP_PORT}`;
const WEB_CLIENT = 'inference-gateway-web';
const GATEWAY_AUDIENCE = 'inference-gateway-client';
const MODEL = 'groq/llama-3.2-3b-preview';

const isLoopback = (hostname: string) => hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';

// ---- the single-page app --------------------------------------------------------------------

interface AppConfig {
  issuer: string;
  clientId: string;
  gatewayUrl: string;
  model: string;
}

/**
 * The app's script, plain browser JavaScript. A string on purpose: a TypeScript function passed
 * through vitest's transform could reference helpers that do not exist in the page.
 */
const APP_SCRIPT = String.raw`
'use strict';
const cfg = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
let token = null;

function show(id, state, value) {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
const describeError = (err) => (err && err.name ? err.name + ': ' + err.message : String(err));

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = (bytes) => b64url(crypto.getRandomValues(new Uint8Array(bytes)));
const claimsOf = (jwt) => JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
const redirectUri = () => location.origin + '/callback';

// ---- sign-in: authorization code + PKCE S256 ----
async function signIn() {
  const verifier = randomString(32);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = randomString(16);
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const url = new URL(cfg.issuer + '/protocol/openid-connect/auth');
  url.search = new URLSearchParams({
    client_id: cfg.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri(),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

async function completeSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem('pkce') || 'null');
  sessionStorage.removeItem('pkce');
  // The code must not stay in the address bar or the history.
  history.replaceState(null, '', '/');
  if (params.get('error')) throw new Error(params.get('error') + ': ' + params.get('error_description'));
  if (!saved || params.get('state') !== saved.state) throw new Error('state mismatch');
  const res = await fetch(cfg.issuer + '/protocol/openid-connect/token', {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cfg.clientId,
      code: params.get('code'),
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error('token endpoint: HTTP ' + res.status + ' ' + JSON.stringify(body));
  return body.access_token;
}

function signedIn(accessToken, how) {
  token = accessToken;
  const c = claimsOf(token);
  $('token').textContent = token;
  show('session', 'signed-in', {
    how,
    preferred_username: c.preferred_username,
    azp: c.azp,
    aud: c.aud,
    realm_roles: (c.realm_access && c.realm_access.roles) || [],
    iss: c.iss,
  });
  for (const b of document.querySelectorAll('button.call')) b.disabled = false;
  $('sign-in').hidden = true;
}

// ---- calls to the gateway (cross-origin: another port) ----
function callGateway(path, init) {
  return fetch(cfg.gatewayUrl + path, {
    method: 'POST',
    ...init,
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', ...(init.headers || {}) },
  });
}

/** Server-sent events from a fetch body, frame by frame. */
async function* sseEvents(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length || event !== 'message') yield { event, data: data.join('\n') };
    }
  }
}

const input = (content) => ({ model: cfg.model, messages: [{ role: 'USER', content }] });

async function graphqlChat() {
  const res = await callGateway('/graphql', {
    body: JSON.stringify({
      query: 'mutation AppChat($input: ChatCompletionInput!) { chatCompletion(input: $input) { provider choices { message { content } } } }',
      variables: { input: input('hello from the browser app') },
    }),
  });
  const body = await res.json();
  return {
    status: res.status,
    requestId: res.headers.get('x-request-id'),
    errors: body.errors || null,
    provider: body.data && body.data.chatCompletion && body.data.chatCompletion.provider,
    content: body.data && body.data.chatCompletion && body.data.chatCompletion.choices[0].message.content,
  };
}

async function graphqlSubscription() {
  const res = await callGateway('/graphql', {
    headers: { accept: 'text/event-stream' },
    body: JSON.stringify({
      query: 'subscription AppStream($input: ChatCompletionInput!) { chatCompletionStream(input: $input) { choices { delta { content } } usage { totalTokens } } }',
      variables: { input: input('stream to the browser app') },
    }),
  });
  const out = { status: res.status, contentType: res.headers.get('content-type'), requestId: res.headers.get('x-request-id'), next: 0, content: '', totalTokens: null, errors: null, completed: false };
  for await (const { event, data } of sseEvents(res)) {
    if (event === 'complete') { out.completed = true; break; }
    if (event !== 'next') continue;
    const result = JSON.parse(data);
    if (result.errors) out.errors = result.errors;
    const chunk = result.data && result.data.chatCompletionStream;
    if (!chunk) continue;
    out.next++;
    out.content += chunk.choices.map((c) => c.delta.content || '').join('');
    if (chunk.usage) out.totalTokens = chunk.usage.totalTokens;
    show('subscription-result', 'streaming', out);
  }
  return out;
}

async function restStream() {
  const res = await callGateway('/v1/chat/completions', {
    body: JSON.stringify({ model: cfg.model, messages: [{ role: 'user', content: 'stream REST to the browser app' }], stream: true, stream_options: { include_usage: true } }),
  });
  const out = { status: res.status, contentType: res.headers.get('content-type'), requestId: res.headers.get('x-request-id'), chunks: 0, content: '', totalTokens: null, done: false };
  if (!res.ok) return { ...out, error: await res.text() };
  for await (const { data } of sseEvents(res)) {
    if (data === '[DONE]') { out.done = true; break; }
    const chunk = JSON.parse(data);
    out.chunks++;
    out.content += (chunk.choices || []).map((c) => (c.delta && c.delta.content) || '').join('');
    if (chunk.usage) out.totalTokens = chunk.usage.total_tokens;
    show('rest-result', 'streaming', out);
  }
  return out;
}

function wire(buttonId, resultId, run) {
  $(buttonId).addEventListener('click', async () => {
    show(resultId, 'running', '…');
    try {
      show(resultId, 'ok', await run());
    } catch (err) {
      show(resultId, 'error', describeError(err));
    }
  });
}
wire('run-chat', 'chat-result', graphqlChat);
wire('run-subscription', 'subscription-result', graphqlSubscription);
wire('run-rest', 'rest-result', restStream);
$('sign-in').addEventListener('click', () => signIn().catch((err) => show('session', 'error', describeError(err))));

(async () => {
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  try {
    if (location.pathname === '/callback') signedIn(await completeSignIn(params), 'authorization code + PKCE');
    else if (fragment.get('access_token')) {
      history.replaceState(null, '', '/');
      signedIn(fragment.get('access_token'), 'handed over in the URL fragment');
    } else show('session', 'signed-out', 'not signed in');
  } catch (err) {
    show('session', 'error', describeError(err));
  }
})();
`;

function appHtml(config: AppConfig, title: string): string {
  // `<` escaped so no value can close the script element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; max-width: 1300px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .origin { color: #555; margin-bottom: 16px; }
  button { font-size: 14px; padding: 6px 12px; margin: 0 8px 8px 0; }
  .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
  pre { background: #f6f6f6; border: 1px solid #ddd; padding: 8px; white-space: pre-wrap; word-break: break-all; margin: 4px 0 0; min-height: 2em; }
  [data-state="ok"], [data-state="signed-in"] { border-color: #2a8; background: #effaf4; }
  [data-state="error"] { border-color: #c33; background: #fdeeee; }
  #token { display: block; max-height: 3.2em; overflow: hidden; color: #777; font-size: 11px; word-break: break-all; }
</style>
</head>
<body>
<h1>${title}</h1>
<div class="origin">origin <b id="origin"></b> · gateway <b>${config.gatewayUrl}</b></div>
<script id="config" type="application/json">${json}</script>
<button id="sign-in">Sign in with Keycloak</button>
<h2>Session</h2>
<pre id="session" data-state="loading">…</pre>
<code id="token"></code>
<h2>Gateway</h2>
<button id="run-chat" class="call" disabled>GraphQL chatCompletion</button>
<button id="run-subscription" class="call" disabled>GraphQL subscription (SSE)</button>
<button id="run-rest" class="call" disabled>REST stream</button>
<div class="grid">
  <div>POST /graphql (mutation)<pre id="chat-result" data-state="idle"></pre></div>
  <div>POST /graphql (text/event-stream)<pre id="subscription-result" data-state="idle"></pre></div>
  <div>POST /v1/chat/completions (stream)<pre id="rest-result" data-state="idle"></pre></div>
</div>
<script>document.getElementById('origin').textContent = location.origin;</script>
<script>${APP_SCRIPT}</script>
</body>
</html>`;
}

interface AppServer {
  origin: string;
  /** Paths the browser asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves the app on `localhost:<port>` (0 = any free port); `config` is read per request, so the
 * port can be claimed before Keycloak and the gateway exist. Chromium may resolve localhost to
 * 127.0.0.1 or ::1, so both are bound: one where something else (a dev server on ::1) answers
 * instead would make the test drive a stranger's page.
 */
async function serveApp(port: number, title: string, config: () => AppConfig): Promise<AppServer> {
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    if (req.url === '/favicon.ico') return void res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(appHtml(config(), title));
  };
  const servers: Server[] = [];
  const listen = async (host: string, p: number): Promise<number> => {
    const server = createServer(handler);
    server.listen(p, host);
    const outcome = await Promise.race([once(server, 'listening').then(() => undefined), once(server, 'error').then(([err]) => err as NodeJS.ErrnoException)]);
    if (outcome) throw outcome;
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  const closeAll = () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  const taken = (err: NodeJS.ErrnoException, host: string, p: number) =>
    new Error(
      `${host} port ${p} is taken (${err.code}). ` +
        (port === APP_PORT
          ? `The realm's web client only redirects to http://localhost:${APP_PORT}/* and http://127.0.0.1:${APP_PORT}/*, so this test must serve its app on port ${APP_PORT}: ` +
            `stop what listens there (a Vite dev server? see \`ss -ltnp 'sport = :${APP_PORT}'\`) and run the test again.`
          : 'Run the test again.'),
    );
  let bound: number;
  try {
    bound = await listen('127.0.0.1', port);
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? taken(err as NodeJS.ErrnoException, '127.0.0.1', port) : err;
  }
  try {
    await listen('::1', bound);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') {
      await closeAll();
      throw code === 'EADDRINUSE' ? taken(err as NodeJS.ErrnoException, '[::1]', bound) : err;
    }
  }
  return {
    origin: `http://localhost:${bound}`,
    requests,
    close: async () => {
      for (const server of servers) server.closeAllConnections();
      await closeAll();
    },
  };
}

// ---- the browser ------------------------------------------------------------------------------

interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  /** Every request the pages made (loopback only is expected; anything else died at the dead proxy). */
  requests: string[];
  pageErrors: string[];
  /** Console lines per page, with their type (Chromium reports CORS refusals there). */
  console: { page: Page; type: string; text: string }[];
}

async function launchBrowser(): Promise<BrowserSession> {
  // Fail, not skip: a missing browser must not turn this test green.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium: apt-get install chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const session: BrowserSession = { browser, context, requests: [], pageErrors: [], console: [] };
  // Observed, not intercepted (see the file comment: routing would fake the CORS preflights).
  context.on('request', (request) => session.requests.push(request.url()));
  context.on('page', (page) => {
    page.on('pageerror', (error) => session.pageErrors.push(error.message));
    page.on('console', (message: ConsoleMessage) => session.console.push({ page, type: message.type(), text: message.text() }));
  });
  return session;
}

/** A CORS preflight as Chromium's DevTools protocol reports it (Playwright's request events leave preflights out). */
interface Preflight {
  url: string;
  origin: string | undefined;
  requestHeaders: string | undefined;
  status: number;
  headers: Record<string, string>;
}

/** Records the preflights a page sends and the answers it gets, by listening to CDP's Network events (no interception). */
async function recordPreflights(page: Page): Promise<Preflight[]> {
  const preflights: Preflight[] = [];
  const sent = new Map<string, Record<string, string>>();
  const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const cdp = await page.context().newCDPSession(page);
  // Chromium 156 types the request "Other" with a "preflight" initiator, and its response "Preflight".
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.initiator.type === 'preflight') sent.set(e.requestId, lower(e.request.headers));
  });
  cdp.on('Network.responseReceived', (e) => {
    if (e.type !== 'Preflight') return;
    const request = sent.get(e.requestId) ?? {};
    preflights.push({
      url: e.response.url,
      origin: request.origin,
      requestHeaders: request['access-control-request-headers'],
      status: e.response.status,
      headers: lower(e.response.headers),
    });
  });
  await cdp.send('Network.enable');
  return preflights;
}

/** Waits until an element's `data-state` is one of `states` and returns that state and the element's text. */
async function settled(page: Page, id: string, states: string[]): Promise<{ state: string; text: string }> {
  const selector = states.map((s) => `#${id}[data-state="${s}"]`).join(', ');
  await page.locator(selector).waitFor({ timeout: UI_TIMEOUT });
  const el = page.locator(`#${id}`);
  return { state: (await el.getAttribute('data-state'))!, text: await el.innerText() };
}

/** The JSON a result panel shows once its call finished; a failed call fails the test with the panel's text. */
async function resultOf(page: Page, id: string): Promise<any> {
  const { state, text } = await settled(page, id, ['ok', 'error']);
  expect(state, `#${id} shows: ${text}`).toBe('ok');
  return JSON.parse(text);
}

// ---- the test ---------------------------------------------------------------------------------

describe('a browser app signs in with Keycloak (authorization code + PKCE) and calls the gateway cross-origin', () => {
  let kc: RunningKeycloak;
  let groq: FakeProvider;
  let gw: TestGateway;
  let app: AppServer;
  let session: BrowserSession;
  let page: Page;
  let preflights: Preflight[];
  let token: string;
  const appConfig = (): AppConfig => ({ issuer: kc.issuer, clientId: WEB_CLIENT, gatewayUrl: gw.url, model: MODEL });

  beforeAll(async () => {
    // The port first: if it is taken there is no point in starting anything else.
    app = await serveApp(APP_PORT, 'Inference gateway: browser test app', appConfig);
    groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'gsk-test', models: ['llama-3.2-3b-preview'] });
    const [keycloak, browserSession] = await Promise.all([startKeycloak(), launchBrowser()]);
    kc = keycloak;
    session = browserSession;
    gw = await startTestGateway({
      ENABLE_AUTH: 'true',
      OIDC_ISSUER_URL: kc.issuer,
      GROQ_API_URL: groq.url,
      GROQ_API_KEY: 'gsk-test',
      CORS_ALLOWED_ORIGINS: APP_ORIGIN,
    });
    page = await session.context.newPage();
    preflights = await recordPreflights(page);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await session?.browser.close();
    await app?.close();
    await gw?.close();
    await groq?.close();
    await kc?.stop();
  });

  it("signs in through Keycloak's login form: the page makes the PKCE S256 pair, redeems the code itself and holds a token for the gateway", async () => {
    await page.goto(`${APP_ORIGIN}/`);
    expect(await settled(page, 'session', ['signed-out'])).toMatchObject({ text: 'not signed in' });

    const authRequest = page.waitForRequest((r) => r.url().startsWith(`${kc.issuer}/protocol/openid-connect/auth?`), { timeout: UI_TIMEOUT });
    await page.locator('#sign-in').click();
    const authUrl = new URL((await authRequest).url());
    expect(Object.fromEntries(authUrl.searchParams)).toMatchObject({
      client_id: WEB_CLIENT,
      response_type: 'code',
      redirect_uri: `${APP_ORIGIN}/callback`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });

    // Keycloak's own login page, as a person sees it.
    await page.locator('#username').waitFor({ timeout: UI_TIMEOUT });
    expect(new URL(page.url()).origin).toBe(new URL(kc.issuer).origin);
    await page.locator('#username').fill('developer');
    await page.locator('#password').fill('developer');
    await page.screenshot({ path: `${ARTIFACTS}browser-app-keycloak-login.png` });

    const tokenRequest = page.waitForRequest((r) => r.url() === kc.tokenUrl && r.method() === 'POST', { timeout: UI_TIMEOUT });
    await page.locator('#kc-login').click();

    // Straight back to the app (no required action, no profile form), which redeems the code.
    const redeemed = await tokenRequest;
    const form = new URLSearchParams(redeemed.postData() ?? '');
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('client_id')).toBe(WEB_CLIENT);
    expect(form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(form.has('client_secret')).toBe(false);
    expect((await redeemed.allHeaders()).origin).toBe(APP_ORIGIN);

    const shown = await settled(page, 'session', ['signed-in', 'error']);
    expect(shown.state, shown.text).toBe('signed-in');
    expect(JSON.parse(shown.text)).toMatchObject({
      how: 'authorization code + PKCE',
      preferred_username: 'developer',
      azp: WEB_CLIENT,
      realm_roles: expect.arrayContaining(['llm-user']),
      iss: kc.issuer,
    });
    // The code is gone from the address bar.
    expect(page.url()).toBe(`${APP_ORIGIN}/`);
    expect(app.requests.some((path) => path.startsWith('/callback?') && path.includes('code='))).toBe(true);

    token = await page.locator('#token').innerText();
    // Verified the way the gateway verifies it: signature, issuer, audience.
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(kc.jwksUrl)), { issuer: kc.issuer, audience: GATEWAY_AUDIENCE, algorithms: ['RS256'] });
    expect(payload).toMatchObject({ azp: WEB_CLIENT, preferred_username: 'developer' });
    await page.screenshot({ path: `${ARTIFACTS}browser-app-signed-in.png` });
  });

  it('(a) runs the chatCompletion mutation with fetch POST /graphql across origins', async () => {
    await page.locator('#run-chat').click();
    const result = await resultOf(page, 'chat-result');
    expect(result).toMatchObject({ status: 200, errors: null, provider: 'groq', content: 'You said: hello from the browser app' });
    // Readable only because the gateway exposes it to the app's origin.
    expect(result.requestId).toEqual(expect.any(String));
    // The Authorization header made the browser ask first, and the gateway (not a test harness) said yes.
    expect(preflights).toContainEqual({
      url: `${gw.url}/graphql`,
      origin: APP_ORIGIN,
      requestHeaders: expect.stringContaining('authorization'),
      status: 204,
      headers: expect.objectContaining({ 'access-control-allow-origin': APP_ORIGIN, 'access-control-allow-headers': expect.stringContaining('authorization') }),
    });
    expect(groq.requests.at(-1)!.json).toMatchObject({ model: 'llama-3.2-3b-preview', messages: [{ role: 'user', content: 'hello from the browser app' }] });
  });

  it('(b) streams the chatCompletionStream subscription over SSE (fetch with accept: text/event-stream) to its end', async () => {
    await page.locator('#run-subscription').click();
    const result = await resultOf(page, 'subscription-result');
    expect(result).toMatchObject({ status: 200, errors: null, completed: true, content: 'You said: stream to the browser app' });
    expect(result.contentType).toContain('text/event-stream');
    expect(result.next).toBeGreaterThan(1);
    expect(result.totalTokens).toBeGreaterThan(0);
    expect(groq.requests.at(-1)!.json).toMatchObject({ stream: true, messages: [{ role: 'user', content: 'stream to the browser app' }] });
  });

  it('(c) streams a REST chat completion (POST /v1/chat/completions, stream: true) and reads the SSE body to [DONE]', async () => {
    await page.locator('#run-rest').click();
    const result = await resultOf(page, 'rest-result');
    expect(result).toMatchObject({ status: 200, done: true, content: 'You said: stream REST to the browser app' });
    expect(result.contentType).toContain('text/event-stream');
    expect(result.chunks).toBeGreaterThan(1);
    expect(result.requestId).toEqual(expect.any(String));
    expect(preflights).toContainEqual(
      expect.objectContaining({ url: `${gw.url}/v1/chat/completions`, origin: APP_ORIGIN, headers: expect.objectContaining({ 'access-control-allow-origin': APP_ORIGIN }) }),
    );
    await page.screenshot({ path: `${ARTIFACTS}browser-app-gateway-calls.png`, fullPage: true });
  });

  it('blocks the same page served from an origin outside CORS_ALLOWED_ORIGINS: its fetch fails with a TypeError', async () => {
    expect(token, 'the sign-in test must have produced a token').toBeTruthy();
    // Same host, another port: a different origin, which the gateway does not list.
    const other = await serveApp(0, 'Same app, origin not allowed', appConfig);
    const stranger = await session.context.newPage();
    try {
      const strangerPreflights = await recordPreflights(stranger);
      expect(other.origin).not.toBe(APP_ORIGIN);
      await stranger.goto(`${other.origin}/#access_token=${token}`);
      const shown = await settled(stranger, 'session', ['signed-in', 'error']);
      expect(JSON.parse(shown.text)).toMatchObject({ how: 'handed over in the URL fragment', preferred_username: 'developer' });

      for (const [button, panel] of [
        ['run-chat', 'chat-result'],
        ['run-rest', 'rest-result'],
      ] as const) {
        await stranger.locator(`#${button}`).click();
        // Whether the request reached the gateway or stopped at the preflight, the page gets no answer.
        expect(await settled(stranger, panel, ['ok', 'error'])).toEqual({ state: 'error', text: 'TypeError: Failed to fetch' });
      }
      // Chromium names the reason.
      const refusals = session.console.filter((m) => m.page === stranger && m.type === 'error' && m.text.includes('blocked by CORS policy'));
      expect(refusals.length, JSON.stringify(session.console.filter((m) => m.page === stranger).map((m) => m.text))).toBeGreaterThanOrEqual(2);
      expect(refusals[0]!.text).toContain(`from origin '${other.origin}'`);
      // The Authorization header is not CORS-safelisted, so the browser asked first; whatever the gateway
      // answered, it did not let this origin in.
      expect(strangerPreflights.length).toBeGreaterThan(0);
      for (const preflight of strangerPreflights) {
        expect(preflight.origin).toBe(other.origin);
        expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      }
      await stranger.screenshot({ path: `${ARTIFACTS}browser-app-cors-blocked.png` });

      // Not the token, not the gateway: the same token from Node (no CORS) gets in.
      const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    } finally {
      await stranger.close();
      await other.close();
    }
  });

  it('made no request beyond loopback and threw no page errors; anything beyond loopback dies at the dead proxy', async () => {
    const outside = session.requests.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return !(protocol === 'data:' || protocol === 'blob:' || isLoopback(hostname));
    });
    expect(outside).toEqual([]);
    expect(session.requests.some((url) => url.startsWith(`${kc.issuer}/`))).toBe(true);
    expect(session.pageErrors).toEqual([]);

    // The cut-off works: a public address (TEST-NET-1) is refused at once, not reached.
    const probe = await page.evaluate(() => fetch('http://192.0.2.1/', { mode: 'no-cors' }).then(() => 'reached', (err: Error) => `${err.name}: ${err.message}`));
    expect(probe).toBe('TypeError: Failed to fetch');
  });
});
