/**
 * Soak: 10,000 streams that the client abandons at a random point (before the response headers, right
 * after them, or after a few chunks), over REST SSE, GraphQL over SSE and GraphQL over WebSocket
 * (operations completed on a shared connection, and sockets dropped outright), against an upstream that
 * never ends on its own. Afterwards nothing may be left: every upstream request the fake saw was
 * aborted, no socket between gateway and fake or client and gateway is still open, file descriptors
 * and memory are back near where they started, and the gateway still serves.
 *
 * Knobs (env): SOAK_STREAMS (10000), SOAK_CONCURRENCY (64), SOAK_SEED (printed; replays a run),
 * SOAK_LOAD_BUDGET_S (150). Progress is logged every 10 s, with any stream running unusually long by stage.
 */
import { print } from 'graphql';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FakeProvider } from '../fakes/fake-provider.js';
import type { OidcIssuer } from '../fakes/oidc-issuer.js';
import { ChatCompletionStreamDocument } from '../generated/graphql.js';
import { MB, mb, parseFrame, prng, SseFrames, startSoakStack, type SoakStack, tcpConnections, waitFor, type GatewayProcess } from './harness.js';

const STREAMS = Number(process.env.SOAK_STREAMS ?? 10_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 64);
const SEED = Number(process.env.SOAK_SEED ?? 0x5eed) >>> 0;
/** A chunk every 20 ms from `endless-stream`; the client leaves after at most this many. */
const MAX_CHUNKS = 10;
const RSS_BOUND = 150 * MB;
/** Live JS heap (and Buffers) after a full GC: 10,000 streams leaking even 2 KB each would show. */
const HEAP_BOUND = 20 * MB;
const SETTLE_MS = 30_000;
/** The streams must all have run by then (about 40-75 s on a shared 2-core machine); past it, report instead of hanging. */
const LOAD_BUDGET_MS = Number(process.env.SOAK_LOAD_BUDGET_S ?? 150) * 1000;
/** Past this many failed streams, stop and report: the gateway is broken, more of the same adds nothing. */
const MAX_FAILURES = 200;
/** One stream that makes no progress for this long is recorded as a failure (chunks come every 20 ms). */
const STALL_MS = 15_000;
/** Idle upstream keep-alive sockets close after 30 s (src/providers/upstream.ts); some margin on top. */
const SOCKETS_SETTLE_MS = 45_000;

type Transport = 'rest-sse' | 'graphql-sse' | 'ws-complete' | 'ws-drop';
type Plan = { i: number; transport: Transport } & (
  | { at: 'before-headers'; delayMs: number }
  | { at: 'after-headers' }
  | { at: 'after-chunks'; chunks: number }
);

type Outcome =
  | 'aborted-before-headers'
  | 'aborted-after-headers'
  | 'aborted-after-chunks'
  /** Planned before the headers, but they came first: aborted as soon as they did. */
  | 'aborted-at-headers-late';

const QUERY = print(ChatCompletionStreamDocument);
const MESSAGE = 'tell me something that never ends';
/** Each request carries its index, so one left open at the fake can be traced back to its plan. */
const message = (i: number) => `${MESSAGE} #${i}`;

let idp: OidcIssuer;
let fake: FakeProvider;
let gw: GatewayProcess | undefined;
let tokens: string[] = [];

let stack: SoakStack | undefined;

beforeAll(async () => {
  stack = await startSoakStack([1, 2, 3].map((n) => `soak-cancel-${n}`));
  ({ idp, fake, gw, tokens } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

function makePlans(count: number, seed: number): Plan[] {
  const rnd = prng(seed);
  const plans: Plan[] = [];
  for (let i = 0; i < count; i++) {
    const transport = rnd.pick<Transport>([
      ['rest-sse', 70],
      ['graphql-sse', 20],
      ['ws-complete', 6],
      ['ws-drop', 4],
    ]);
    const at = rnd.pick<Plan['at']>([
      ['before-headers', 15],
      ['after-headers', 15],
      ['after-chunks', 70],
    ]);
    if (at === 'before-headers') plans.push({ i, transport, at, delayMs: rnd.int(0, 15) });
    else if (at === 'after-headers') plans.push({ i, transport, at });
    else plans.push({ i, transport, at, chunks: rnd.int(1, MAX_CHUNKS) });
  }
  return plans;
}

class UnexpectedError extends Error {}

/** Where one running stream is, for the progress log: a stream stuck somewhere shows by its stage. */
interface Track {
  stage: string;
}

/**
 * REST SSE or GraphQL over SSE with undici: abort through the signal at the planned point. Any other
 * end (a status other than 200, the stream ending or erroring on its own, a transport error we did not
 * cause) is a failure.
 */
async function httpStream(dispatcher: Agent, url: string, plan: Plan, token: string, track: Track): Promise<Outcome> {
  const rest = plan.transport === 'rest-sse';
  const ac = new AbortController();
  let abortedBy: Outcome | undefined;
  const abort = (why: Outcome) => {
    abortedBy ??= why;
    ac.abort();
  };
  const timer = plan.at === 'before-headers' ? setTimeout(() => abort('aborted-before-headers'), plan.delayMs) : undefined;
  // A stream that neither starts nor delivers its chunks is a failure, not a hang of the whole run.
  let stalled = false;
  const watchdog = setTimeout(() => {
    stalled = true;
    ac.abort();
  }, STALL_MS);
  try {
    const res = await request(rest ? `${url}/v1/chat/completions` : `${url}/graphql`, {
      method: 'POST',
      dispatcher,
      signal: ac.signal,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: JSON.stringify(
        rest
          ? { model: 'groq/endless-stream', messages: [{ role: 'user', content: message(plan.i) }], stream: true }
          : { query: QUERY, variables: { input: { model: 'groq/endless-stream', messages: [{ role: 'USER', content: message(plan.i) }] } } },
      ),
    });
    res.body.on('error', () => {}); // the abort below errors the body; that is the point
    track.stage = 'headers';
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new UnexpectedError(`${plan.transport}: status ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    if (plan.at !== 'after-chunks') {
      abort(plan.at === 'before-headers' ? 'aborted-at-headers-late' : 'aborted-after-headers');
      return abortedBy!;
    }
    const frames = new SseFrames();
    let seen = 0;
    for await (const piece of res.body) {
      for (const frame of frames.feed(piece.toString())) {
        const { event, data } = parseFrame(frame);
        if (event === 'comment') continue; // Yoga's keep-alive ping
        if (rest) {
          if (data === '[DONE]' || data.includes('"error"')) throw new UnexpectedError(`rest-sse: stream ended on its own: ${data.slice(0, 200)}`);
        } else if (event !== 'next' || data.includes('"errors"')) {
          throw new UnexpectedError(`graphql-sse: unexpected ${event} event: ${data.slice(0, 200)}`);
        }
        track.stage = `chunk ${seen + 1}`;
        if (++seen >= plan.chunks) {
          abort('aborted-after-chunks');
          return abortedBy!;
        }
      }
    }
    throw new UnexpectedError(`${plan.transport}: stream ended on its own after ${seen} chunks`);
  } catch (error) {
    if (error instanceof UnexpectedError) throw error;
    if (stalled) throw new UnexpectedError(`${plan.transport}: stalled: no headers or chunks within ${STALL_MS} ms`);
    if (abortedBy && ac.signal.aborted) return abortedBy;
    throw new UnexpectedError(`${plan.transport}: ${(error as Error).name}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
    clearTimeout(watchdog);
    ac.abort(); // whatever happened, this request is over
  }
}

/** A graphql-transport-ws connection carrying many operations; operations end with `complete`. */
class WsConnection {
  private nextId = 1;
  private readonly handlers = new Map<string, (msg: any) => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.id) this.handlers.get(msg.id)?.(msg);
    });
    ws.on('close', (code, reason) => {
      for (const handler of [...this.handlers.values()]) handler({ type: 'connection closed', payload: { code, reason: reason.toString() } });
    });
  }

  static async open(url: string, token: string): Promise<WsConnection> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', (code, reason) => reject(new UnexpectedError(`ws closed before open: ${code} ${reason}`)));
    });
    ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (raw: WebSocket.RawData) => {
        if (JSON.parse(raw.toString()).type === 'connection_ack') {
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.once('close', (code, reason) => reject(new UnexpectedError(`ws closed before ack: ${code} ${reason}`)));
    });
    return new WsConnection(ws);
  }

  /** Runs one subscription until `plan` says to leave, then sends `complete`. */
  async operation(plan: Plan, track: Track): Promise<Outcome> {
    const id = String(this.nextId++);
    if (this.ws.readyState !== WebSocket.OPEN) throw new UnexpectedError('ws-complete: shared connection is closed');
    return new Promise<Outcome>((resolve, reject) => {
      let seen = 0;
      let timer: NodeJS.Timeout | undefined;
      const watchdog = setTimeout(() => finish(new UnexpectedError(`ws-complete: stalled after ${seen} events`)), STALL_MS);
      const finish = (outcome: Outcome | Error) => {
        clearTimeout(timer);
        clearTimeout(watchdog);
        this.handlers.delete(id);
        if (outcome instanceof Error) return reject(outcome);
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ id, type: 'complete' }));
        resolve(outcome);
      };
      this.handlers.set(id, (msg) => {
        if (msg.type !== 'next' || msg.payload?.errors) return finish(new UnexpectedError(`ws-complete: unexpected ${msg.type}: ${JSON.stringify(msg.payload).slice(0, 200)}`));
        seen++;
        track.stage = `event ${seen}`;
        if (plan.at === 'after-headers') return finish('aborted-after-headers'); // "headers" over WS: the first event
        if (plan.at === 'before-headers') return finish('aborted-at-headers-late');
        if (seen >= plan.chunks) finish('aborted-after-chunks');
      });
      this.ws.send(
        JSON.stringify({
          id,
          type: 'subscribe',
          payload: { query: QUERY, variables: { input: { model: 'groq/endless-stream', messages: [{ role: 'USER', content: message(plan.i) }] } } },
        }),
      );
      if (plan.at === 'before-headers') {
        if (plan.delayMs === 0) finish('aborted-before-headers'); // `complete` right behind `subscribe`
        else timer = setTimeout(() => finish('aborted-before-headers'), plan.delayMs);
      }
    });
  }

  /** A clean close, or a dropped socket if the gateway does not answer the close frame within 5 s. */
  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), 5_000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000);
    });
  }
}

/** One WebSocket per operation, dropped (TCP destroyed, no close frame) at the planned point. */
async function wsDrop(url: string, plan: Plan, token: string, track: Track): Promise<Outcome> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  ws.on('error', () => {});
  try {
    return await new Promise<Outcome>((resolve, reject) => {
      let seen = 0;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const watchdog = setTimeout(() => {
        done = true;
        reject(new UnexpectedError(`ws-drop: stalled after ${seen} events`));
      }, STALL_MS);
      const drop = (outcome: Outcome) => {
        done = true;
        clearTimeout(timer);
        clearTimeout(watchdog);
        ws.terminate();
        resolve(outcome);
      };
      ws.once('open', () => {
        track.stage = 'open';
        ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
        if (plan.at === 'before-headers') timer = setTimeout(() => drop('aborted-before-headers'), plan.delayMs);
      });
      ws.on('message', (raw) => {
        if (done) return;
        const msg = JSON.parse(raw.toString());
        if (msg.type === 'connection_ack') {
          track.stage = 'acked';
          ws.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: { query: QUERY, variables: { input: { model: 'groq/endless-stream', messages: [{ role: 'USER', content: message(plan.i) }] } } },
            }),
          );
          return;
        }
        if (msg.type !== 'next' || msg.payload?.errors) {
          done = true;
          clearTimeout(timer);
          clearTimeout(watchdog);
          return reject(new UnexpectedError(`ws-drop: unexpected ${msg.type}: ${JSON.stringify(msg.payload).slice(0, 200)}`));
        }
        seen++;
        track.stage = `event ${seen}`;
        if (plan.at === 'after-headers') return drop('aborted-after-headers');
        if (plan.at === 'before-headers') return drop('aborted-at-headers-late');
        if (seen >= plan.chunks) drop('aborted-after-chunks');
      });
      ws.once('close', (code, reason) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(watchdog);
        reject(new UnexpectedError(`ws-drop: closed by the gateway: ${code} ${reason}`));
      });
    });
  } finally {
    ws.terminate();
  }
}

/** Plans of the streams the fake still has open (received, not aborted). */
function openAtFake(plans: Plan[], since: number): Plan[] {
  const aborted = new Set(fake.aborted);
  return fake.requests
    .slice(since)
    .filter((r) => r.json?.stream === true && !aborted.has(r))
    .map((r) => /#(\d+)$/.exec(r.json?.messages?.at(-1)?.content ?? '')?.[1])
    .filter((n): n is string => n !== undefined)
    .map((n) => plans[Number(n)]!);
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

const streamingAtFake = () => fake.requests.filter((r) => r.json?.stream === true).length;
const abortedAtFake = () => fake.aborted.filter((r) => r.json?.stream === true).length;

describe('streams abandoned by their clients', () => {
  it(`leaves nothing behind after ${STREAMS} random cancellations`, async () => {
    const g = gw!;
    const url = g.url;
    const auth = { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' };

    // Warm-up: every path once to its end, so modules, JIT and pools exist before the baseline.
    const warm = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: auth,
      body: JSON.stringify({ model: 'groq/m', messages: [{ role: 'user', content: 'warm up' }], stream: true }),
    });
    expect((await warm.text()).trim().endsWith('data: [DONE]')).toBe(true);
    const warmGql = await fetch(`${url}/graphql`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: { ...auth, accept: 'text/event-stream' },
      body: JSON.stringify({ query: QUERY, variables: { input: { model: 'groq/m', messages: [{ role: 'USER', content: 'warm up' }] } } }),
    });
    expect(await warmGql.text()).toContain('event: complete');
    await waitFor(() => tcpConnections(g.port).local === 0, 5_000, () => 'warm-up client connections to close');

    const fakePort = Number(new URL(fake.url).port);
    const memBefore = await g.memoryAfterGc();
    const baseline = { rss: memBefore.rss, fds: g.fds(), toFake: tcpConnections(fakePort).remote, atFake: tcpConnections(fakePort).local };
    const fakeBefore = { requests: fake.requests.length, streaming: streamingAtFake(), aborted: abortedAtFake() };

    const plans = makePlans(STREAMS, SEED);
    const dispatcher = new Agent({ connections: CONCURRENCY * 2, keepAliveTimeout: 1_000 });
    const shared = await Promise.all([0, 1, 2, 3].map((i) => WsConnection.open(url, tokens[i % tokens.length]!)));
    const outcomes = new Map<string, number>();
    const failures: string[] = [];
    let peakRss = baseline.rss;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, g.rss());
      } catch {
        // process gone: the assertions below will say so
      }
    }, 250);

    const started = performance.now();
    const cpuBefore = { gateway: g.cpuSeconds(), runner: process.cpuUsage() };
    let next = 0;
    let done = 0;
    let failed = 0;
    const budgetEnd = started + LOAD_BUDGET_MS;
    const active = new Map<number, { plan: Plan; since: number; track: Track }>();
    const worker = async () => {
      // Stop taking work past the time budget or after too many failures: report, don't hang to the test timeout.
      while (next < plans.length && performance.now() < budgetEnd && failed < MAX_FAILURES) {
        const i = next++;
        const plan = plans[i]!;
        const token = tokens[i % tokens.length]!;
        const track: Track = { stage: 'sent' };
        active.set(i, { plan, since: performance.now(), track });
        try {
          const outcome =
            plan.transport === 'ws-complete'
              ? await shared[i % shared.length]!.operation(plan, track)
              : plan.transport === 'ws-drop'
                ? await wsDrop(url, plan, token, track)
                : await httpStream(dispatcher, url, plan, token, track);
          const key = `${plan.transport} ${outcome}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        } catch (error) {
          failed++;
          if (failures.length < 1000) failures.push(`#${i} ${JSON.stringify(plan)} at ${track.stage}: ${(error as Error).message}`);
        } finally {
          active.delete(i);
          done++;
        }
      }
    };
    // Progress every 10 s, with the streams running for more than 2 s (each should last < 0.5 s) by stage.
    const progress = setInterval(() => {
      const now = performance.now();
      const slow = [...active.values()].filter((a) => now - a.since > 2_000);
      console.log(
        `[soak:cancellation] +${((now - started) / 1000).toFixed(0)} s: ${done}/${STREAMS} done, ${failed} failed, ${active.size} running` +
          (slow.length ? `, ${slow.length} running > 2 s: ${JSON.stringify(countBy(slow, (a) => `${a.plan.transport} ${a.plan.at} @${a.track.stage}`))}` : '') +
          `; upstream open ${streamingAtFake() - fakeBefore.streaming - (abortedAtFake() - fakeBefore.aborted)}; gateway rss ${mb(g.rss())}`,
      );
    }, 10_000);
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      clearInterval(progress);
      const loadMs = performance.now() - started;
      const runnerCpu = process.cpuUsage(cpuBefore.runner);
      const cpu = { gatewayS: +(g.cpuSeconds() - cpuBefore.gateway).toFixed(1), loadGeneratorAndFakesS: +((runnerCpu.user + runnerCpu.system) / 1e6).toFixed(1) };

      // Settle, phase 1 (requests): with the shared WebSockets still open (so a `complete` that did not
      // reach the upstream would show), every upstream request must have been aborted by the gateway.
      const received = () => streamingAtFake() - fakeBefore.streaming;
      const aborted = () => abortedAtFake() - fakeBefore.aborted;
      const settleStart = performance.now();
      // Diagnostics: what is still open at the fake 1 s after the last client left (teardown takes milliseconds).
      let lingering: Plan[] | undefined;
      const requestsSettled = await waitFor(
        () => {
          if (lingering === undefined && performance.now() - settleStart > 1_000) lingering = openAtFake(plans, fakeBefore.requests);
          return received() === aborted();
        },
        SETTLE_MS,
        () => `upstream streams: ${received()} received, ${aborted()} aborted`,
        100,
      ).catch((e: Error) => e);
      const socketsAtRequestsSettled = tcpConnections(fakePort).remote;

      // Phase 2 (sockets): clients gone, the gateway closes every socket it accepted; its idle upstream
      // keep-alive sockets expire (30 s pool keep-alive, src/providers/upstream.ts); fds come back.
      await Promise.all(shared.map((c) => c.close()));
      await dispatcher.close();
      const socketsStart = performance.now();
      const socketsSettled = await waitFor(
        () => {
          const toFake = tcpConnections(fakePort);
          return toFake.remote <= baseline.toFake + 2 && toFake.local <= baseline.atFake + 2 && tcpConnections(g.port).local === 0 && g.fds() <= baseline.fds + 5;
        },
        SOCKETS_SETTLE_MS,
        () =>
          `gateway→fake ${JSON.stringify(tcpConnections(fakePort))} (baseline ${baseline.toFake}), ` +
          `client→gateway ${JSON.stringify(tcpConnections(g.port))}, fds ${g.fds()} (baseline ${baseline.fds})`,
        250,
      ).catch((e: Error) => e);
      const socketsMs = performance.now() - socketsStart;
      clearInterval(sampler);

      const memAfter = await g.memoryAfterGc();
      const after = { rss: memAfter.rss, fds: g.fds(), toFake: tcpConnections(fakePort), toGateway: tcpConnections(g.port) };
      const report = {
        seed: SEED,
        streams: STREAMS,
        ran: done,
        concurrency: CONCURRENCY,
        durationS: +(loadMs / 1000).toFixed(1),
        streamsPerS: Math.round(done / (loadMs / 1000)),
        cpu,
        failures: failed,
        outcomes: Object.fromEntries([...outcomes].sort()),
        upstream: {
          received: received(),
          aborted: aborted(),
          neverReachedUpstream: done - received(),
          settleMs: typeof requestsSettled === 'number' ? Math.round(requestsSettled) : 'timed out',
          stillOpen1sAfterLoad: lingering?.length ?? 0,
          stillOpenByKind: countBy(lingering ?? [], (p) => `${p.transport} ${p.at}`),
          stillOpenExamples: (lingering ?? []).slice(0, 5),
        },
        socketsGatewayToFake: {
          before: baseline.toFake,
          idleInPoolWhenRequestsSettled: socketsAtRequestsSettled,
          after: after.toFake.remote,
          acceptedByFakeBefore: baseline.atFake,
          acceptedByFakeAfter: after.toFake.local,
          settleMs: Math.round(socketsMs),
          states: after.toFake.states,
        },
        socketsClientToGateway: { after: after.toGateway.local, states: after.toGateway.states },
        fds: { before: baseline.fds, after: after.fds },
        // before/after: right after a full GC in the gateway (over the inspector); peak: sampled every 250 ms.
        rss: { before: mb(baseline.rss), peak: mb(peakRss), after: mb(after.rss), growth: mb(after.rss - baseline.rss) },
        heapUsedAfterGc: { before: mb(memBefore.heapUsed), after: mb(memAfter.heapUsed), growth: mb(memAfter.heapUsed - memBefore.heapUsed), bytesPerStream: Math.round((memAfter.heapUsed - memBefore.heapUsed) / Math.max(1, done)) },
        gatewayLogs: { warn: g.logs().warn, error: g.logs().error, kinds: g.logs().kinds },
        externalAfterGc: { before: mb(memBefore.external + memBefore.arrayBuffers), after: mb(memAfter.external + memAfter.arrayBuffers) },
      };
      console.log(`[soak:cancellation] ${JSON.stringify(report, null, 2)}`);
      if (failures.length) console.log(`[soak:cancellation] first failures:\n${failures.slice(0, 20).join('\n')}`);
      const logs = g.logs();
      if (logs.error) console.log(`[soak:cancellation] gateway error logs (${logs.error}), first:\n${logs.firstError.join('\n')}`);
      if (logs.warn) console.log(`[soak:cancellation] gateway warn logs (${logs.warn}), first:\n${logs.firstWarn.join('\n')}`);

      expect(failures.slice(0, 20), `${failed} streams ended other than by their client`).toEqual([]);
      expect(done, `streams run within the ${LOAD_BUDGET_MS / 1000} s budget`).toBe(STREAMS);
      expect(requestsSettled instanceof Error ? requestsSettled.message : undefined, 'upstream requests left open').toBeUndefined();
      expect(received(), 'every upstream stream aborted (none left open, none finished: the fake never ends them)').toBe(aborted());
      expect(socketsSettled instanceof Error ? socketsSettled.message : undefined, 'sockets and fds back to baseline').toBeUndefined();
      expect(after.toFake.remote, 'gateway→fake sockets back to baseline').toBeLessThanOrEqual(baseline.toFake + 2);
      expect(after.toFake.local, 'sockets open at the fake back to baseline').toBeLessThanOrEqual(baseline.atFake + 2);
      expect(after.toGateway.local, 'client→gateway sockets all closed').toBe(0);
      expect(after.fds).toBeLessThanOrEqual(baseline.fds + 5);
      expect(after.rss - baseline.rss, 'RSS growth (after a full GC)').toBeLessThanOrEqual(RSS_BOUND);
      expect(memAfter.heapUsed - memBefore.heapUsed, 'JS heap growth after a full GC').toBeLessThanOrEqual(HEAP_BOUND);
      expect(memAfter.external + memAfter.arrayBuffers - (memBefore.external + memBefore.arrayBuffers), 'Buffers/external memory growth after a full GC').toBeLessThanOrEqual(HEAP_BOUND);
    } finally {
      clearInterval(sampler);
      clearInterval(progress);
      await Promise.all(shared.map((c) => c.close()));
      await dispatcher.close().catch(() => {});
    }

    // Still serving.
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ message: 'OK' });
    const normal = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: auth,
      body: JSON.stringify({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    expect(normal.status).toBe(200);
    expect((await normal.json()).choices[0].message.content).toBe('You said: still there?');
    const stream = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: auth,
      body: JSON.stringify({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'and streaming?' }], stream: true }),
    });
    expect((await stream.text()).trim().endsWith('data: [DONE]')).toBe(true);

    // A client leaving is routine: no error-level log lines for it (they page people and bury real ones).
    const logs = g.logs();
    expect(logs.firstError, `${logs.error} error-level log lines for ${STREAMS} cancelled streams`).toEqual([]);
  });
});
