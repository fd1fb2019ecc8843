/** Starts the real gateway on a free loopback port, with logs captured for assertions. */
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
