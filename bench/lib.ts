/**
 * Shared machinery for the bench: child processes (each server in its own process), RSS sampling,
 * autocannon runs with exact latencies, a small SSE client, statistics, and the gateway build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import ts from 'typescript';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { GATEWAY_NODE_FLAGS } from './node-flags.js';

export { GATEWAY_NODE_FLAGS };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH = join(ROOT, 'bench');
const TSX = ['--import', 'tsx'];

// ---------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Spawn → the `listening on` line, in ms. */
  readonly startupMs: number;
  readonly proc: ChildProcess;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** Environment for children: ours, minus anything that would configure real providers or auth. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/_API_(KEY|URL)$|^(AUTH_|OIDC_|ENABLE_AUTH|SERVER_|LOG_LEVEL|ENVIRONMENT|ALLOWED_MODELS|DISALLOWED_MODELS)|^NODE_OPTIONS$|^NODE_ENV$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Spawns `node <args>` and waits for a `listening on http://…` line on stdout. */
export function startChild(name: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Child> {
  const started = performance.now();
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const stderrTail = () => stderr.trim();
  return new Promise<Child>((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${name}: no 'listening on' line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${error.message}\n${stderrTail()}`));
    };
    const onExit = (code: number | null) => fail(new Error(`${name} exited (code ${code}) before listening`));
    proc.once('exit', onExit);
    proc.stdout!.setEncoding('utf8');
    const onData = (s: string) => {
      out += s;
      const m = /listening on (http:\/\/[^\s)]+)/.exec(out);
      if (!m) {
        out = out.slice(-2000);
        return;
      }
      const startupMs = performance.now() - started;
      clearTimeout(timer);
      proc.off('exit', onExit);
      proc.stdout!.off('data', onData);
      proc.stdout!.resume(); // keep draining: info-level logs must never block the child on a full pipe
      resolvePromise({
        name,
        url: m[1]!,
        pid: proc.pid!,
        startupMs,
        proc,
        stderrTail,
        async stop(graceMs = 10_000) {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        },
      });
    };
    proc.stdout!.on('data', onData);
  });
}

/**
 * Transpiles one bench script to bench/.build/<name>.mjs, so the fake upstream and the floor run on plain
 * `node` like the built gateway: no tsx loader thread in their memory or start-up.
 */
export function compileBenchScript(name: string): string {
  const src = join(BENCH, `${name}.ts`);
  const out = join(BENCH, '.build', `${name}.mjs`);
  const { outputText } = ts.transpileModule(readFileSync(src, 'utf8'), {
    fileName: src,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
  return out;
}

export const startUpstream = () => startChild('fake upstream', [compileBenchScript('fake-upstream')], {});
export const startFloor = (upstream: string) => startChild('floor', [compileBenchScript('floor')], { UPSTREAM_URL: upstream });

export interface GatewayOptions {
  upstream: string;
  issuer?: string;
  logLevel?: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Run from source through tsx instead of dist/. */
  fromSource?: boolean;
  /** NODE_ENV for the gateway: `production` as in the Docker image, unless BENCH_NODE_ENV says otherwise. */
  nodeEnv?: string;
  /** The usage ledger (default: the embedded one, in a temporary directory; `off` for none). */
  usageDatabaseUrl?: string;
  /** More environment (budgets, Redis…). */
  env?: Record<string, string>;
}

export function startGateway(name: string, o: GatewayOptions): Promise<Child> {
  const env: Record<string, string> = {
    SERVER_HOST: '127.0.0.1',
    SERVER_PORT: '0',
    LOG_LEVEL: o.logLevel ?? 'warn',
    OPENAI_API_URL: `${o.upstream}/v1`,
    OPENAI_API_KEY: 'k',
    ENABLE_AUTH: o.issuer ? 'true' : 'false',
    NODE_ENV: o.nodeEnv ?? process.env.BENCH_NODE_ENV ?? 'production',
    // The default (an embedded ledger in ./data/usage) would write into the checkout: a temporary one instead.
    USAGE_DATABASE_URL: o.usageDatabaseUrl ?? `pglite://${mkdtempSync(join(tmpdir(), 'bench-ledger-'))}`,
  };
  if (o.issuer) env.OIDC_ISSUER_URL = o.issuer;
  Object.assign(env, o.env);
  const entry = o.fromSource ? [...TSX, join(ROOT, 'src/main.ts')] : [join(ROOT, 'dist/main.js')];
  // The flags the image and `npm start` run the gateway with (test/k8s.test.ts keeps the three in step),
  // then BENCH_NODE_FLAGS and the scenario's own.
  const flags = [...GATEWAY_NODE_FLAGS, ...(process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []), ...(o.nodeFlags ?? [])];
  return startChild(name, [...flags, ...entry], env);
}

// ---------------------------------------------------------------------------------------------
// Result files: sections between `<!-- name -->` and `<!-- /name -->` markers belong to one script
// each (bench/tracing.ts, bench/ledger.ts, by hand); a script that rewrites a whole file keeps them.

const SECTION = /<!-- ([\w-]+) -->[\s\S]*?<!-- \/\1 -->\n?/g;

/** Writes `md` as `file`, followed by the marked sections the file held. */
export function writeKeepingSections(file: string, md: string): void {
  let kept = '';
  try {
    kept = [...readFileSync(file, 'utf8').matchAll(SECTION)].map((m) => m[0].trimEnd()).join('\n\n');
  } catch {
    // no earlier file
  }
  writeFileSync(file, kept ? `${md.trimEnd()}\n\n${kept}\n` : md);
}

/** Puts `body` in `file` as the section `name` (markers added), replacing the section's earlier text or appended. */
export function writeSection(file: string, name: string, body: string): void {
  const section = `<!-- ${name} -->\n${body.trim()}\n<!-- /${name} -->\n`;
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // a new file
  }
  const marked = new RegExp(`<!-- ${name} -->[\\s\\S]*?<!-- /${name} -->\\n?`);
  writeFileSync(file, marked.test(old) ? old.replace(marked, () => section) : `${old.trimEnd()}\n\n${section}`);
}

// ---------------------------------------------------------------------------------------------
// Build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/. Returns false when the build failed (use tsx). */
export function ensureBuild(log: (s: string) => void): { ok: boolean; built: boolean; ms: number } {
  const main = join(ROOT, 'dist/main.js');
  let distTime = 0;
  try {
    distTime = statSync(main).mtimeMs;
  } catch {
    // missing
  }
  const srcTime = Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'package.json')).mtimeMs);
  if (distTime > srcTime) return { ok: true, built: false, ms: 0 };
  log(distTime ? 'dist/ is older than src/: npm run build' : 'dist/ is missing: npm run build');
  const t = performance.now();
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    log(`build failed (exit ${r.status}); the gateway runs from source through tsx instead:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
    return { ok: false, built: true, ms };
  }
  return { ok: true, built: true, ms };
}

// ---------------------------------------------------------------------------------------------
// Memory

/** VmRSS of a process in MB, from /proc (undefined once it is gone). */
export function rssMB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every `everyMs`; `stop()` gives the peak. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMB(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB(pid) ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMB(pid) ?? 0);
      return peak;
    },
  };
}

const CLK_TCK = (() => {
  try {
    return Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.5);
}

// ---------------------------------------------------------------------------------------------
// HTTP load (autocannon)

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The body every response must have (autocannon counts the others as mismatches). */
  expectBody?: string;
  /** The serving process, whose CPU time per request is measured. */
  pid?: number;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  /** Exact latencies (autocannon's own histogram has 1 ms resolution). */
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  mismatches: number;
  resets: number;
  /** CPU time (user + system) the serving process spent per request, in µs (NaN without a pid). */
  cpuUsPerRequest: number;
  /** Every 2xx latency, sorted (left out of results.json). */
  samples: Float64Array;
}

export async function load(target: Target, connections: number, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections,
    duration: seconds,
    ...(target.expectBody ? { expectBody: target.expectBody } : {}),
  });
  let responses = 0;
  instance.on('response', (_client, status, _bytes, ms) => {
    responses++;
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const cpuBefore = target.pid ? cpuMs(target.pid) : NaN;
  const r = await instance;
  const cpuAfter = target.pid ? cpuMs(target.pid) : NaN;
  const sorted = Float64Array.from(latencies).sort();
  return {
    connections,
    seconds: r.duration,
    requests: r['2xx'],
    rps: r['2xx'] / r.duration,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    errors: r.errors,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    resets: r.resets,
    cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / responses,
    samples: sorted,
  };
}

/** p50, p99 and p99.9 over the samples of several runs. */
export function pooled(runs: LoadResult[]): { p50: number; p99: number; p999: number } {
  const all = new Float64Array(runs.reduce((n, r) => n + r.samples.length, 0));
  let at = 0;
  for (const r of runs) {
    all.set(r.samples, at);
    at += r.samples.length;
  }
  all.sort();
  return { p50: percentile(all, 0.5), p99: percentile(all, 0.99), p999: percentile(all, 0.999) };
}

/** A LoadResult without its samples, for JSON. */
export const summary = ({ samples: _samples, ...rest }: LoadResult) => rest;

export function loadProblems(r: LoadResult): string | undefined {
  const parts: string[] = [];
  if (r.errors) parts.push(`${r.errors} errors`);
  if (r.non2xx) parts.push(`${r.non2xx} non-2xx`);
  if (r.timeouts) parts.push(`${r.timeouts} timeouts`);
  if (r.mismatches) parts.push(`${r.mismatches} unexpected bodies`);
  if (r.requests === 0) parts.push('no successful request');
  return parts.length ? parts.join(', ') : undefined;
}

/** One request, checked: returns the body (throws on a non-2xx or a GraphQL error). */
export async function probe(target: Target): Promise<string> {
  const u = new URL(target.url);
  const pool = new Pool(u.origin);
  try {
    const res = await pool.request({ method: 'POST', path: u.pathname + u.search, headers: target.headers, body: target.body });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${target.name}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    if (text.includes('"errors"')) throw new Error(`${target.name}: GraphQL errors: ${text.slice(0, 300)}`);
    return text;
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Streams (SSE): REST `data:` frames or GraphQL-over-SSE `event: next` frames

/** `graphql-ws`: the URL is `ws://…/graphql`, one socket per stream (graphql-transport-ws), `pool` unused. */
export type StreamKind = 'rest' | 'graphql' | 'graphql-ws';

export interface StreamTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  kind: StreamKind;
}

export interface StreamRun {
  ok: boolean;
  /** Frames carrying a chunk (REST `data: {…}`, GraphQL `event: next` without errors). */
  chunks: number;
  /** ms from sending the request to the first complete chunk frame. */
  ttfc: number;
  /** ms from sending the request to the end of the body. */
  total: number;
  error?: string;
}

/** Sends one streaming request on `pool` and counts its frames as they arrive. */
export async function streamOnce(pool: Pool | undefined, t: StreamTarget): Promise<StreamRun> {
  if (t.kind === 'graphql-ws') return wsStreamOnce(t);
  if (!pool) throw new Error('streamOnce: an HTTP stream needs a pool');
  const u = new URL(t.url);
  const started = performance.now();
  let ttfc = NaN;
  let chunks = 0;
  let done = false;
  let error: string | undefined;
  try {
    const res = await pool.request({ method: 'POST', path: u.pathname + u.search, headers: t.headers, body: t.body });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      return { ok: false, chunks, ttfc, total: performance.now() - started, error: `HTTP ${res.statusCode}: ${text.slice(0, 200)}` };
    }
    res.body.setEncoding('utf8');
    let buf = '';
    for await (const part of res.body as AsyncIterable<string>) {
      buf += part;
      let end: number;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (t.kind === 'rest') {
          if (frame === 'data: [DONE]') done = true;
          else if (frame.startsWith('data: {"error"')) error = frame.slice(6, 300);
          else if (frame.startsWith('data: ')) {
            if (chunks++ === 0) ttfc = performance.now() - started;
          }
        } else if (frame.startsWith('event: next')) {
          if (frame.includes('"errors"')) error = frame.slice(0, 300);
          else if (chunks++ === 0) ttfc = performance.now() - started;
        } else if (frame.startsWith('event: complete')) done = true;
      }
    }
  } catch (e) {
    error = (e as Error).message;
  }
  const total = performance.now() - started;
  if (!error && !done) error = 'stream ended without its final frame';
  return { ok: !error, chunks, ttfc, total, ...(error ? { error } : {}) };
}

/**
 * One subscription on its own WebSocket (as each browser tab would have): connection_init with the
 * `Authorization` header as a connection parameter, subscribe with `t.body`'s operation, count `next`.
 */
export function wsStreamOnce(t: StreamTarget): Promise<StreamRun> {
  const started = performance.now();
  let ttfc = NaN;
  let chunks = 0;
  return new Promise((resolvePromise) => {
    let settled = false;
    const ws = new WebSocket(t.url, 'graphql-transport-ws');
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      ws.close(1000);
      resolvePromise({ ok: !error, chunks, ttfc, total: performance.now() - started, ...(error ? { error } : {}) });
    };
    ws.on('open', () => {
      const authorization = t.headers.authorization;
      ws.send(JSON.stringify({ type: 'connection_init', payload: authorization ? { Authorization: authorization } : {} }));
    });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { errors?: unknown } };
      if (message.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: JSON.parse(t.body) }));
      else if (message.type === 'next') {
        if (message.payload?.errors) return finish(JSON.stringify(message.payload.errors).slice(0, 300));
        if (chunks++ === 0) ttfc = performance.now() - started;
      } else if (message.type === 'complete') finish();
      else if (message.type === 'error') finish(JSON.stringify(message.payload).slice(0, 300));
    });
    ws.on('error', (e) => finish(e.message));
    ws.on('close', (code, reason) => finish(`socket closed (${code} ${String(reason)}) before complete`));
  });
}

export function streamPool(url: string, connections: number): Pool {
  return new Pool(new URL(url).origin, { connections, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
}

// ---------------------------------------------------------------------------------------------
// The requests every scenario sends (shared by run.ts and profile.ts)

export const REST_BODY = JSON.stringify({
  model: 'openai/bench',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say hello to the benchmark, briefly.' },
  ],
  temperature: 0.2,
});
export const MUTATION = `mutation Chat($input: ChatCompletionInput!) {
  chatCompletion(input: $input) {
    id model provider created
    choices { index finishReason message { role content } }
    usage { promptTokens completionTokens totalTokens }
  }
}`;
export const SUBSCRIPTION = `subscription Stream($input: ChatCompletionInput!) {
  chatCompletionStream(input: $input) {
    id model provider
    choices { index finishReason delta { role content } }
    usage { promptTokens completionTokens totalTokens }
  }
}`;
export const gqlInput = (model: string) => ({
  input: {
    model,
    messages: [
      { role: 'SYSTEM', content: 'You are a helpful assistant.' },
      { role: 'USER', content: 'Say hello to the benchmark, briefly.' },
    ],
    temperature: 0.2,
  },
});
export const GQL_BODY = JSON.stringify({ query: MUTATION, variables: gqlInput('openai/bench'), operationName: 'Chat' });
export const restStreamBody = (model: string) =>
  JSON.stringify({ ...JSON.parse(REST_BODY), model, stream: true, stream_options: { include_usage: true } });
export const gqlStreamBody = (model: string) => JSON.stringify({ query: SUBSCRIPTION, variables: gqlInput(model), operationName: 'Stream' });

