/**
 * Shared pieces of the soak suites: the real gateway as a child process (so its memory and file
 * descriptors are its own, apart from the load generator's), readings from /proc, a seeded PRNG,
 * polling with a deadline, and small statistics for the logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from '../fakes/oidc-issuer.js';

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcessWithoutNullStreams;
  /** The last part of what the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Log lines the gateway wrote at warn (pino level 40) and at error or worse (50, 60), with the first few of each. */
  logs(): { warn: number; error: number; firstWarn: string[]; firstError: string[]; kinds: Record<string, number> };
  /** Resident set size, bytes (VmRSS). */
  rss(): number;
  /** Open file descriptors (sockets included). */
  fds(): number;
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds(): number;
  /**
   * A full garbage collection in the gateway, then its `process.memoryUsage()`: what it really holds,
   * GC saw-teeth removed. Over the inspector protocol (started with `inspect: true`); the gateway's
   * code is not touched.
   */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  /** Ends the inspector session (before a graceful stop, so nothing keeps the process up). */
  detach(): Promise<void>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): void;
}

const OUTPUT_TAIL = 64 * 1024;

/** Starts `src/main.ts` under tsx on a free port and waits for its "listening on" line. */
export async function spawnGateway(env: Record<string, string>, options: { inspect?: boolean } = {}): Promise<GatewayProcess> {
  const args = [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), '--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    // A clean environment: nothing from the developer's shell (real provider keys…) leaks in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', SERVER_HOST: '127.0.0.1', SERVER_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let inspectorUrl: string | undefined;
  const logs = { warn: 0, error: 0, firstWarn: [] as string[], firstError: [] as string[], kinds: {} as Record<string, number> };
  let partial = '';
  const append = (d: Buffer) => {
    const text = d.toString();
    out += text;
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(out)?.[1];
    if (out.length > 2 * OUTPUT_TAIL) out = out.slice(-OUTPUT_TAIL);
    // Count every log line by level, the whole run long (the kept output is only its tail).
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const level = Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level >= 40) {
        // Grouped by what they say: `level msg | error type: message | path`.
        let key = line.slice(0, 80);
        try {
          const j = JSON.parse(line);
          key = `${level} ${j.msg} | ${j.err?.type ?? ''}: ${j.err?.message ?? ''} | ${j.path ?? ''}`;
        } catch {
          // not JSON: keep the raw start
        }
        logs.kinds[key] = (logs.kinds[key] ?? 0) + 1;
      }
      if (level >= 50) {
        logs.error++;
        if (logs.firstError.length < 5) logs.firstError.push(line.slice(0, 600));
      } else if (level >= 40) {
        logs.warn++;
        if (logs.firstWarn.length < 5) logs.firstWarn.push(line.slice(0, 600));
      }
    }
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start within 30 s:\n${out}`)), 30_000);
      const onData = () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited (${code}) before listening:\n${out}`));
      });
    });
    const pid = child.pid!;
    let inspector: Promise<Inspector> | undefined;
    const session = () => {
      if (!options.inspect) throw new Error('gateway started without inspect: true');
      if (!inspectorUrl) throw new Error(`no inspector URL in the gateway's output:\n${out.slice(0, 2000)}`);
      return (inspector ??= Inspector.connect(inspectorUrl));
    };
    return {
      url,
      port: Number(new URL(url).port),
      pid,
      child,
      output: () => out.slice(-OUTPUT_TAIL),
      logs: () => ({ ...logs, firstWarn: [...logs.firstWarn], firstError: [...logs.firstError], kinds: { ...logs.kinds } }),
      rss: () => rssOf(pid),
      fds: () => readdirSync(`/proc/${pid}/fd`).length,
      cpuSeconds: () => cpuSecondsOf(pid),
      async memoryAfterGc() {
        const s = await session();
        await s.call('HeapProfiler.collectGarbage');
        const { result } = await s.call('Runtime.evaluate', { expression: 'process.memoryUsage()', returnByValue: true });
        return result.value as NodeJS.MemoryUsage;
      },
      async detach() {
        const s = await inspector?.catch(() => undefined);
        inspector = undefined;
        await s?.close();
      },
      exited,
      kill,
    };
  } catch (error) {
    kill();
    throw error;
  }
}

/** A minimal Chrome DevTools Protocol client: enough to ask for a GC and evaluate an expression. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      const waiter = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(`inspector: ${msg.error.message}`));
      else waiter.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('inspector session closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** utime + stime of a process, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const MB = 1024 * 1024;
export const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/**
 * Established IPv4 TCP connections on this host whose local or remote port is `port`, from
 * /proc/net/tcp (no external tool). `remote`: sockets connecting *to* the port (client side);
 * `local`: the listener's accepted sockets.
 */
export function tcpConnections(port: number): { remote: number; local: number; states: Record<string, number> } {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let remote = 0;
  let local = 0;
  const states: Record<string, number> = {};
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const [, localAddr, remAddr, st] = cols as [string, string, string, string];
      const isLocal = localAddr.endsWith(`:${hex}`);
      const isRemote = remAddr.endsWith(`:${hex}`);
      if (!isLocal && !isRemote) continue;
      // Keyed by side: `client:` the connecting end (remote port is `port`), `server:` the listener's end.
      const name = `${isLocal ? 'server' : 'client'}:${TCP_STATES[st] ?? st}`;
      states[name] = (states[name] ?? 0) + 1;
      if (st !== '01') continue;
      if (isRemote) remote++;
      if (isLocal) local++;
    }
  }
  return { remote, local, states };
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** Polls `check` until it returns true, or fails after `timeoutMs` with `describe()` in the message. */
export async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string, everyMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** mulberry32: small, fast, seeded; the run is reproducible from the seed printed in the log. */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(weighted: [T, number][]): T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick<T>(weighted: [T, number][]): T {
      const total = weighted.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [value, w] of weighted) {
        r -= w;
        if (r < 0) return value;
      }
      return weighted.at(-1)![0];
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Splits an SSE byte stream into frames as they arrive: feed text, get back the complete frames
 * (the text between blank lines); the incomplete tail is kept for the next feed.
 */
export class SseFrames {
  private buffer = '';
  feed(text: string): string[] {
    this.buffer += text;
    const frames = this.buffer.split('\n\n');
    this.buffer = frames.pop() ?? '';
    return frames.filter((f) => f.trim() !== '');
  }
  get rest(): string {
    return this.buffer;
  }
}

/** `event:` and joined `data:` of one SSE frame; comment-only frames give event 'comment'. */
export function parseFrame(frame: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  let any = false;
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    any = true;
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
  }
  return { event: any ? event : 'comment', data: data.join('\n') };
}

export interface SoakStack {
  idp: OidcIssuer;
  fake: FakeProvider;
  gw: GatewayProcess;
  /** One valid bearer token per subject. */
  tokens: string[];
  stop(): Promise<void>;
}

/** A local issuer, a fake groq and the gateway as a child process with auth on: what both soaks run against. */
export async function startSoakStack(subjects: string[]): Promise<SoakStack> {
  const idp = await startOidcIssuer();
  const fake = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k' });
  const tokens = await Promise.all(subjects.map((sub) => idp.token({ sub }, { expiresIn: '30m' })));
  const gw = await spawnGateway({ GROQ_API_URL: fake.url, GROQ_API_KEY: 'k', ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer }, { inspect: true });
  return {
    idp,
    fake,
    gw,
    tokens,
    async stop() {
      await gw.detach().catch(() => {});
      gw.kill();
      await gw.exited;
      await fake.close();
      await idp.close();
    },
  };
}
