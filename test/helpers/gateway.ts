/** Starts the real gateway on a free loopback port, with logs captured for assertions. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startGateway, type GatewayServer } from '../../src/server.js';

export interface TestGateway extends GatewayServer {
  /** Every log line written so far, as text. */
  logs(): string;
}

export async function startTestGateway(env: Record<string, string | undefined>): Promise<TestGateway> {
  // The usage ledger is off unless a test asks for it: hundreds of gateways must not share ./data/usage.
  const config = loadConfig({ SERVER_HOST: '127.0.0.1', SERVER_PORT: '0', USAGE_DATABASE_URL: 'off', ...env });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger(env.ENVIRONMENT ?? 'development', sink);
  const app = await startGateway(config, { logger });
  return Object.assign(app, { logs: () => lines.join('') });
}

/**
 * The gateway as its own process (`src/main.ts` through tsx, as `npm start` runs it), for what only a
 * process shows: signals, exit codes, flushes at exit. `env` is all it gets besides PATH and a free
 * port. Resolves with its URL once it says it is listening; rejects (the process killed) if it exits
 * first or is not listening within a minute.
 */
export async function spawnGateway(env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, SERVER_PORT: '0', ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let timer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not listening after 60 s: ${out}`));
    }, 60_000);
  }).finally(() => clearTimeout(timer));
  return { child, url };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Reads an SSE response body into its `data:` payloads, in order. */
export async function readSseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'));
}
