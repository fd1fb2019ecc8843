/**
 * The token attack matrix on every GraphQL transport, black-box: with ENABLE_AUTH=true each bad
 * token (and a missing or scheme-less header) is refused on the fast path (JSON query and mutation),
 * Yoga's own path (batch, GET), both SSE paths (POST distinct connections, GET) and graphql-ws —
 * 401 + UNAUTHENTICATED + a Bearer challenge over HTTP, close code 4401 over WebSocket — never a
 * 500 or 400, never any data, and the provider never sees a refused operation. A valid token passes
 * on each transport, so the matrix cannot pass because a transport is simply broken.
 *
 * The bad-token builders are copied from test/auth.test.ts (and extended); keep them in step.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatCompletionDocument, ChatCompletionStreamDocument, MeDocument } from './generated/graphql.js';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from './fakes/oidc-issuer.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let idp: OidcIssuer;
let groq: FakeProvider;
let gw: TestGateway;

beforeAll(async () => {
  idp = await startOidcIssuer();
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'provider-key', models: ['llama'] });
  gw = await startTestGateway({
    ENABLE_AUTH: 'true',
    OIDC_ISSUER_URL: idp.issuer,
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: 'provider-key',
  });
});
afterAll(async () => {
  await gw?.close();
  await groq?.close();
  await idp?.close();
});

// ---------------------------------------------------------------------------------------------
// Bad credentials. Each builds the whole Authorization value, or undefined for "no header at all".

const AUDIENCE = 'inference-gateway-client';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const bearer = async (token: Promise<string> | string) => `Bearer ${await token}`;

/** Random bytes as a header can carry them: control characters moved to the obs-text range. */
const randomHeaderBytes = (n: number) =>
  [...randomBytes(n)].map((b) => String.fromCharCode(b < 0x20 || b === 0x7f ? b + 0x80 : b)).join('');

const cases: [name: string, authorization: () => Promise<string | undefined>][] = [
  ['a malformed token', () => bearer('not.a.jwt')],
  ['garbage: random bytes', () => bearer(randomHeaderBytes(64))],
  ['garbage: base64 junk', () => bearer(randomBytes(96).toString('base64'))],
  ['garbage: a very long string', () => bearer(`${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(1000)}`)],
  ['alg none', () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'x', exp: 9e9 })}.`)],
  [
    'HS256 signed with the public key',
    () => {
      const header = b64({ alg: 'HS256', typ: 'JWT', kid: idp.keys[0]!.kid });
      const payload = b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 300 });
      const secret = JSON.stringify(idp.keys[0]!.publicJwk);
      const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      return bearer(`${header}.${payload}.${sig}`);
    },
  ],
  ['a wrong issuer', () => bearer(idp.token({ iss: 'http://evil.example/realms/inference-gateway-realm' }))],
  ['a wrong audience', () => bearer(idp.token({ aud: 'some-other-client' }))],
  ['an expired token', () => bearer(idp.token({}, { expiresIn: now() - 600 }))],
  ['nbf in the future', () => bearer(idp.token({ nbf: now() + 600 }))],
  [
    'a tampered payload (original signature)',
    async () => {
      const [h, , s] = (await idp.token()).split('.');
      return bearer(`${h}.${b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'admin', exp: now() + 300 })}.${s}`);
    },
  ],
  ['an unknown kid', async () => bearer(idp.token({}, { key: await idp.newKey() }))],
  [
    'a known kid signed with the wrong key',
    async () => {
      const stranger = await idp.newKey();
      return bearer(idp.token({}, { key: { ...stranger, kid: idp.keys[0]!.kid } }));
    },
  ],
  ['the Basic scheme', async () => `Basic ${Buffer.from('a:b').toString('base64')}`],
  [
    'a token without exp',
    async () => {
      const { SignJWT } = await import('jose');
      const key = idp.keys[0]!;
      return bearer(
        new SignJWT({ aud: AUDIENCE, sub: 'x', realm_access: { roles: ['llm-user'] } })
          .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
          .setIssuer(idp.issuer)
          .setIssuedAt()
          .sign(key.privateKey),
      );
    },
  ],
  ['no Authorization header', async () => undefined],
  ['"Bearer" with no token', async () => 'Bearer'],
];

// ---------------------------------------------------------------------------------------------
// What each transport sends, and how it reads the answer.

const ME = print(MeDocument);
const CHAT = print(ChatCompletionDocument);
const STREAM = print(ChatCompletionStreamDocument);
/** Each mutation/subscription carries a unique marker as its message, so the provider's log shows whether it ran. */
const chatInput = (marker: string) => ({ input: { model: 'groq/llama', messages: [{ role: 'USER', content: marker }] } });
const refusedMarkers: string[] = [];
const providerSaw = (marker: string) => groq.requests.some((r) => r.body.includes(marker));

interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

interface SseAnswer extends HttpAnswer {
  /** `event: next` payloads, parsed. */
  next: any[];
  complete: boolean;
}

const headersWith = (authorization: string | undefined, extra: Record<string, string>) =>
  authorization === undefined ? extra : { ...extra, authorization };

async function httpCall(url: string, init: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Reads a response as SSE until it ends, or until an `event: next` frame carrying data arrives
 * (a refused request must never get that far; reading on could then wait for a whole stream).
 */
async function sseCall(url: string, init: RequestInit, stopOnData: boolean): Promise<SseAnswer> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  const answer: SseAnswer = { status: res.status, headers: res.headers, text: '', next: [], complete: false };
  if (!res.body) return answer;
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      answer.text += chunk;
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = frame.split('\n');
        const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (event === 'next') {
          let payload: any;
          try {
            payload = JSON.parse(data);
          } catch {
            payload = { unparsable: data };
          }
          answer.next.push(payload);
          if (stopOnData && payload?.data != null) {
            controller.abort();
            return answer;
          }
        } else if (event === 'complete') {
          answer.complete = true;
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return answer;
}

interface WsAnswer {
  code: number;
  reason: string;
  messages: any[];
}

/**
 * One graphql-transport-ws session on a raw socket: connection_init with `connectionParams`, and —
 * only if the server acknowledges — one subscribe; ends when the server closes the socket, or (we
 * close with 1000) once the operation completes or fails.
 */
function wsCall(connectionParams: Record<string, unknown> | undefined, query: string, variables: unknown): Promise<WsAnswer> {
  return new Promise((resolve, reject) => {
    const messages: any[] = [];
    const socket = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('open', () =>
      socket.send(JSON.stringify(connectionParams === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload: connectionParams })),
    );
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      messages.push(message);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'complete' || message.type === 'error') {
        socket.close(1000, 'done');
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason), messages }));
    socket.on('error', (error) => (socket.readyState === WebSocket.CLOSED ? reject(error) : undefined));
  });
}

// ---------------------------------------------------------------------------------------------
// The contract for a refused HTTP request.

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON body, got: ${text.slice(0, 300)}`);
  }
}

/** A refusal's GraphQL body: one response object (a batch may also be refused as one per operation). */
function expectUnauthenticatedBody(body: any): void {
  const responses = Array.isArray(body) ? body : [body];
  expect(responses.length).toBeGreaterThan(0);
  for (const response of responses) {
    expect(response).toEqual(expect.any(Object));
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }
}

function expectRefusedJson(answer: HttpAnswer): void {
  const summary = `${answer.status} ${answer.headers.get('content-type')} ${answer.text.slice(0, 300)}`;
  expect(answer.status, summary).toBe(401);
  expect(answer.headers.get('www-authenticate') ?? '', summary).toMatch(/^Bearer/);
  expect(answer.headers.get('content-type') ?? '', summary).toMatch(/json/);
  expectUnauthenticatedBody(parseJson(answer.text));
}

/** SSE requests: a 401 before any stream; whatever body comes, no `next` with data, and the error says UNAUTHENTICATED. */
function expectRefusedSse(answer: SseAnswer): void {
  const summary = `${answer.status} ${answer.headers.get('content-type')} ${answer.text.slice(0, 300)}`;
  expect(answer.status, summary).toBe(401);
  expect(answer.headers.get('www-authenticate') ?? '', summary).toMatch(/^Bearer/);
  expect(answer.next.filter((n) => n?.data != null), summary).toEqual([]);
  if (/event-stream/.test(answer.headers.get('content-type') ?? '')) {
    expect(answer.next.length, summary).toBeGreaterThan(0);
    expectUnauthenticatedBody(answer.next[0]);
  } else {
    expectUnauthenticatedBody(parseJson(answer.text));
  }
}

// ---------------------------------------------------------------------------------------------
// Transports: each refuses (with a credential, or none) and accepts (with a valid token).

interface Transport {
  /** Sends the transport's operation and asserts the refusal contract. `marker` tags chat operations. */
  refused(authorization: string | undefined, marker: string): Promise<void>;
  /** Sends it with a valid token and asserts real data came back. */
  accepted(authorization: string, marker: string): Promise<void>;
  /** Whether the operation reaches the provider when allowed (so the provider log can witness a leak). */
  chat: boolean;
}

const graphqlUrl = () => `${gw.url}/graphql`;
const postJsonInit = (authorization: string | undefined, body: unknown, accept = 'application/json'): RequestInit => ({
  method: 'POST',
  headers: headersWith(authorization, { 'content-type': 'application/json', accept }),
  body: JSON.stringify(body),
});
const getUrl = (query: string, variables?: unknown) =>
  `${graphqlUrl()}?query=${encodeURIComponent(query)}${variables === undefined ? '' : `&variables=${encodeURIComponent(JSON.stringify(variables))}`}`;

function expectMe(response: any, summary: string): void {
  expect(response?.errors, summary).toBeUndefined();
  expect(response?.data?.me?.subject, summary).toBe('service-account-1');
}

function expectStreamed(answer: SseAnswer, marker: string): void {
  const summary = `${answer.status} ${answer.headers.get('content-type')} ${answer.text.slice(0, 300)}`;
  expect(answer.status, summary).toBe(200);
  expect(answer.headers.get('content-type') ?? '', summary).toMatch(/text\/event-stream/);
  expect(answer.next.flatMap((n) => n.errors ?? []), summary).toEqual([]);
  const text = answer.next.map((n) => n.data?.chatCompletionStream?.choices?.[0]?.delta?.content ?? '').join('');
  expect(text, summary).toBe(`You said: ${marker}`);
  expect(answer.complete, summary).toBe(true);
}

const transports: Record<string, Transport> = {
  'POST JSON query (fast path)': {
    chat: false,
    async refused(authorization) {
      expectRefusedJson(await httpCall(graphqlUrl(), postJsonInit(authorization, { query: ME })));
    },
    async accepted(authorization) {
      const answer = await httpCall(graphqlUrl(), postJsonInit(authorization, { query: ME }));
      expect(answer.status, answer.text).toBe(200);
      expectMe(parseJson(answer.text), answer.text);
    },
  },
  'POST JSON mutation chatCompletion (fast path)': {
    chat: true,
    async refused(authorization, marker) {
      expectRefusedJson(await httpCall(graphqlUrl(), postJsonInit(authorization, { query: CHAT, variables: chatInput(marker) })));
    },
    async accepted(authorization, marker) {
      const answer = await httpCall(graphqlUrl(), postJsonInit(authorization, { query: CHAT, variables: chatInput(marker) }));
      expect(answer.status, answer.text).toBe(200);
      const body = parseJson(answer.text) as any;
      expect(body.errors, answer.text).toBeUndefined();
      expect(body.data.chatCompletion.choices[0].message.content).toBe(`You said: ${marker}`);
    },
  },
  'POST batch (Yoga)': {
    chat: false,
    async refused(authorization) {
      expectRefusedJson(await httpCall(graphqlUrl(), postJsonInit(authorization, [{ query: ME }, { query: ME }])));
    },
    async accepted(authorization) {
      const answer = await httpCall(graphqlUrl(), postJsonInit(authorization, [{ query: ME }, { query: ME }]));
      expect(answer.status, answer.text).toBe(200);
      const body = parseJson(answer.text);
      expect(Array.isArray(body) && body.length, answer.text).toBe(2);
      for (const response of body as any[]) expectMe(response, answer.text);
    },
  },
  'GET query (Yoga)': {
    chat: false,
    async refused(authorization) {
      expectRefusedJson(await httpCall(getUrl(ME), { headers: headersWith(authorization, { accept: 'application/json' }) }));
    },
    async accepted(authorization) {
      const answer = await httpCall(getUrl(ME), { headers: { authorization, accept: 'application/json' } });
      expect(answer.status, answer.text).toBe(200);
      expectMe(parseJson(answer.text), answer.text);
    },
  },
  'POST subscription over SSE (distinct connections)': {
    chat: true,
    async refused(authorization, marker) {
      expectRefusedSse(await sseCall(graphqlUrl(), postJsonInit(authorization, { query: STREAM, variables: chatInput(marker) }, 'text/event-stream'), true));
    },
    async accepted(authorization, marker) {
      expectStreamed(await sseCall(graphqlUrl(), postJsonInit(authorization, { query: STREAM, variables: chatInput(marker) }, 'text/event-stream'), false), marker);
    },
  },
  'GET subscription over SSE (Yoga)': {
    chat: true,
    async refused(authorization, marker) {
      expectRefusedSse(await sseCall(getUrl(STREAM, chatInput(marker)), { headers: headersWith(authorization, { accept: 'text/event-stream' }) }, true));
    },
    async accepted(authorization, marker) {
      expectStreamed(await sseCall(getUrl(STREAM, chatInput(marker)), { headers: { authorization, accept: 'text/event-stream' } }, false), marker);
    },
  },
  'WebSocket graphql-transport-ws': {
    chat: true,
    async refused(authorization, marker) {
      const answer = await wsCall(authorization === undefined ? undefined : { Authorization: authorization }, STREAM, chatInput(marker));
      const summary = JSON.stringify(answer).slice(0, 500);
      expect(answer.code, summary).toBe(4401);
      expect(answer.messages.filter((m) => m.type === 'next'), summary).toEqual([]);
    },
    async accepted(authorization, marker) {
      const answer = await wsCall({ Authorization: authorization }, STREAM, chatInput(marker));
      const summary = JSON.stringify(answer).slice(0, 500);
      expect(answer.messages[0]?.type, summary).toBe('connection_ack');
      const next = answer.messages.filter((m) => m.type === 'next').map((m) => m.payload);
      expect(next.flatMap((p) => p.errors ?? []), summary).toEqual([]);
      expect(next.map((p) => p.data?.chatCompletionStream?.choices?.[0]?.delta?.content ?? '').join(''), summary).toBe(`You said: ${marker}`);
      expect(answer.messages.at(-1)?.type, summary).toBe('complete');
      expect(answer.code, summary).toBe(1000); // we closed it after `complete`
    },
  },
};

const transportEntries = Object.entries(transports);

describe('a valid token is let in on every transport (positive control)', () => {
  it.each(transportEntries)('%s', async (_name, transport) => {
    const marker = `authmatrix-ok-${randomUUID()}`;
    await transport.accepted(`Bearer ${await idp.token()}`, marker);
    if (transport.chat) expect(providerSaw(marker)).toBe(true);
  });
});

describe('every bad credential is refused on every transport: never a 500/400, never data', () => {
  const matrix = cases.flatMap(([caseName, authorization]) =>
    transportEntries.map(([transportName, transport]) => [caseName, transportName, authorization, transport] as const),
  );

  it.each(matrix)('%s → %s', async (_case, _transport, authorization, transport) => {
    const marker = `authmatrix-refused-${randomUUID()}`;
    refusedMarkers.push(marker);
    const before = groq.requests.length;
    await transport.refused(await authorization(), marker);
    expect(groq.requests.length - before, 'the provider was called for a refused request').toBe(0);
    expect(providerSaw(marker)).toBe(false);
  });

  // Runs last in this file: a provider call started late by any refused request would show up here.
  it('the provider never received any refused operation', () => {
    expect(refusedMarkers.length).toBe(cases.length * transportEntries.length);
    expect(refusedMarkers.filter(providerSaw)).toEqual([]);
  });
});
