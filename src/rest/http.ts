/**
 * Small helpers for the plain `node:http` request path the REST shim runs on: bounded body reading,
 * JSON replies, and the contract's `{"error": "..."}` shape for every failure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, PayloadTooLargeError, toGatewayError, type GatewayError } from '../errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        cleanup();
        // Stop reading but leave the socket to the response: the client gets its 413.
        req.pause();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      parts.push(part);
    };
    const onEnd = () => {
      cleanup();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BadRequestError('Request body is empty: send a JSON object');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new BadRequestError(`Request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** How a route words an error: the contract's `{"error": "…"}`, or another API's shape (Anthropic's on /v1/messages). */
export type ErrorBody = (error: GatewayError) => unknown;
export const plainErrorBody: ErrorBody = (e) => ({ error: e.message });

/** The REST edge's one error mapper. */
export function sendError(res: ServerResponse, error: unknown, body: ErrorBody = plainErrorBody): void {
  const e = toGatewayError(error);
  if (res.destroyed) return; // the client is gone: nobody to tell
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A body we stopped reading (413) would otherwise keep the connection busy.
  const headers: Record<string, string> = { ...e.headers };
  if (e.status === 413) headers.connection = 'close';
  sendJson(res, e.status, body(e), headers);
}
