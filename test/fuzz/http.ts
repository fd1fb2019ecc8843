/**
 * A raw `node:http` client for the fuzz tests: the path goes on the wire exactly as given (no URL
 * normalisation, no re-encoding), bodies may be arbitrary bytes, sent with a content-length or as
 * chunks (chunked transfer encoding), and every exchange is bounded by a deadline — a hang is a failure.
 */
import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** Parsed body, or undefined when it is not JSON. */
  json: unknown;
  ms: number;
}

export interface RawRequest {
  method?: string;
  /** Sent as-is on the request line. */
  path: string;
  headers?: Record<string, string>;
  /** One buffer/string (sent with content-length), or chunks (sent chunked, no content-length). */
  body?: string | Buffer | (string | Buffer)[];
  timeoutMs?: number;
}

/** Thrown when the gateway did not answer in time: the contract says no request may hang. */
export class HangError extends Error {}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export function closeAgent(): void {
  agent.destroy();
}

export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const started = performance.now();
  const timeoutMs = req.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    const chunked = Array.isArray(req.body);
    if (req.body !== undefined && !chunked && !hasHeader(headers, 'content-length')) {
      headers['content-length'] = Buffer.byteLength(req.body as string | Buffer);
    }
    const r = request(
      { hostname: base.hostname, port: base.port, method: req.method ?? 'GET', path: req.path, headers, agent },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json, ms: performance.now() - started });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => {
      r.destroy(new HangError(`no complete response to ${req.method ?? 'GET'} ${req.path.slice(0, 120)} within ${timeoutMs} ms`));
    }, timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    r.on('error', fail);
    if (chunked) {
      for (const part of req.body as (string | Buffer)[]) r.write(part);
      r.end();
    } else if (req.body !== undefined) {
      r.end(req.body);
    } else {
      r.end();
    }
  });
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Writes raw bytes on a fresh socket and reads until the server closes (for requests Node's client refuses to send). */
export async function rawSocket(baseUrl: string, bytes: Buffer | string, timeoutMs = 5000): Promise<string> {
  const { connect } = await import('node:net');
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new HangError('raw socket: no answer')), timeoutMs);
    socket.on('data', (p: Buffer) => {
      parts.push(p);
      // One response is enough; the server may keep the socket open.
      const text = Buffer.concat(parts).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head !== -1) {
        const length = /content-length:\s*(\d+)/i.exec(text.slice(0, head));
        if (!length || text.length - head - 4 >= Number(length[1])) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text);
        }
      }
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.end(bytes);
  });
}
