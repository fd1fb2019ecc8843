/**
 * RequestSignal: the per-request abort signal (src/lifecycle.ts) stands in for an AbortSignal
 * everywhere the gateway passes one; it must behave as one where it is used.
 */
import { describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestSignal } from '../src/lifecycle.js';

describe('RequestSignal behaves as an AbortSignal where the gateway uses one', () => {
  it('runs onabort and every abort listener once, with an AbortError reason by default; later aborts change nothing', () => {
    const signal = new RequestSignal();
    const seen: string[] = [];
    signal.onabort = (event) => seen.push(`onabort:${event.type}`);
    signal.addEventListener('abort', () => seen.push('a'));
    signal.addEventListener('abort', { handleEvent: (event: Event) => seen.push(`object:${event.type}`) });
    signal.addEventListener('other', () => seen.push('never'));
    expect(signal.aborted).toBe(false);
    signal.abort();
    signal.abort(new Error('again'));
    expect(seen).toEqual(['onabort:abort', 'a', 'object:abort']);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect((signal.reason as DOMException).name).toBe('AbortError');
    expect(() => signal.throwIfAborted()).toThrow(signal.reason as DOMException);
  });

  it('keeps the reason it is given; a removed listener does not run; one added after the abort never runs', () => {
    const signal = new RequestSignal();
    const seen: string[] = [];
    const removed = () => seen.push('removed');
    signal.addEventListener('abort', removed);
    signal.removeEventListener('abort', removed);
    const reason = new Error('shutting down');
    signal.abort(reason);
    signal.addEventListener('abort', () => seen.push('late'));
    expect(signal.reason).toBe(reason);
    expect(seen).toEqual([]);
  });

  it('a listener that throws does not stop the others (the error is reported, as an EventTarget reports it)', async () => {
    const signal = new RequestSignal();
    const seen: string[] = [];
    const reported = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    signal.addEventListener('abort', () => {
      throw new Error('listener bug');
    });
    signal.addEventListener('abort', () => seen.push('second'));
    signal.abort();
    expect(seen).toEqual(['second']);
    expect(((await reported) as Error).message).toBe('listener bug');
  });

  it('undici takes it as a request signal: aborting it aborts the request in flight', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = createServer((req, res) => res.on('close', () => closed()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const signal = new RequestSignal();
      const request = pool.request({ method: 'GET', path: '/', signal: signal.asAbortSignal }).catch((error: Error) => error);
      await new Promise((resolve) => server.once('request', resolve));
      signal.abort(new Error('client gone'));
      expect(((await request) as Error).message).toBe('client gone');
      await upstreamClosed;
    } finally {
      await pool.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
