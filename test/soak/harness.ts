/**
 * Shared pieces of the soak suites: the real gateway as a child process (so its memory and file
 * descriptors are its own, apart from the load generator's), readings from /proc, a seeded PRNG,
 * polling with a deadline, and small statistics for the logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcessWithoutNullStreams;
  /** The last part of what the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Resident set size, bytes (VmRSS). */
  rss(): number;
  /** Open file descriptors (sockets included). */
  fds(): number;
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds(): number;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): void;
}

const OUTPUT_TAIL = 64 * 1024;

/** Starts `src/main.ts` under tsx on a free port and waits for its "listening on" line. */
export async function spawnGateway(env: Record<string, string>, cwd = process.cwd()): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd,
    // A clean environment: nothing from the developer's shell (real provider keys…) leaks in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', SERVER_HOST: '127.0.0.1', SERVER_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * OUTPUT_TAIL) out = out.slice(-OUTPUT_TAIL);
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
    return {
      url,
      port: Number(new URL(url).port),
      pid,
      child,
      output: () => out.slice(-OUTPUT_TAIL),
      rss: () => rssOf(pid),
      fds: () => readdirSync(`/proc/${pid}/fd`).length,
      cpuSeconds: () => cpuSecondsOf(pid),
      exited,
      kill,
    };
  } catch (error) {
    kill();
    throw error;
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
