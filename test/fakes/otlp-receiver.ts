/**
 * A loopback OTLP/HTTP trace receiver, as an OpenTelemetry collector's `otlp` receiver is on port
 * 4318: `POST /v1/traces` with an ExportTraceServiceRequest as protobuf (`application/x-protobuf`,
 * decoded with protobufjs from the official .proto files in ./otlp-proto) or as OTLP/JSON. Spans of
 * both encodings come out in one plain shape for assertions. `hang` accepts requests and never
 * answers, like a collector that is stuck.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message: string };
  startNs: bigint;
  endNs: bigint;
  /** The resource's attributes (service.name …). */
  resource: Record<string, unknown>;
  /** How it arrived. */
  encoding: 'protobuf' | 'json';
}

export interface OtlpReceiver {
  /** The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (spans are posted to `/v1/traces` below it). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (content types), answered or not. */
  readonly requests: { contentType: string; path: string }[];
  /** Resolves with all spans once `done(spans)` holds; rejects after `timeoutMs`. */
  waitFor(done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

let requestType: protobuf.Type | undefined;
function exportRequestType(): protobuf.Type {
  if (requestType) return requestType;
  const root = new protobuf.Root();
  const dir = fileURLToPath(new URL('./otlp-proto/', import.meta.url));
  root.resolvePath = (_origin, target) => (target.startsWith(dir) ? target : dir + target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return requestType;
}

export async function startOtlpReceiver(options: { hang?: boolean } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: { contentType: string; path: string }[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req, res) => {
    const contentType = String(req.headers['content-type'] ?? '');
    requests.push({ contentType, path: req.url ?? '' });
    let body = await readAll(req);
    if (options.hang) return; // a stuck collector: never answers
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    try {
      if (contentType.startsWith('application/x-protobuf')) {
        const decoded = exportRequestType().toObject(exportRequestType().decode(body), { longs: String, bytes: Array, enums: Number });
        spans.push(...flatten(decoded, 'protobuf'));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else if (contentType.startsWith('application/json')) {
        spans.push(...flatten(JSON.parse(body.toString('utf8')), 'json'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(415).end();
        return;
      }
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      return;
    }
    for (const wake of waiters) wake();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    waitFor(done, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(spans)) return;
          cleanup();
          resolve(spans);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; got ${spans.length} spans: ${spans.map((s) => s.name).join(', ')}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Both encodings use the same field names once protobufjs camel-cases them; ids are bytes or hex. */
function flatten(request: any, encoding: 'protobuf' | 'json'): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        out.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          traceState: span.traceState ?? '',
          name: span.name,
          kind: KINDS[Number(span.kind ?? 0)] ?? 'UNSPECIFIED',
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((e: any) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
          status: { code: STATUS[Number(span.status?.code ?? 0)] ?? 'UNSET', message: span.status?.message ?? '' },
          startNs: BigInt(span.startTimeUnixNano ?? 0),
          endNs: BigInt(span.endTimeUnixNano ?? 0),
          resource,
          encoding,
        });
      }
    }
  }
  return out;
}

function hex(id: unknown): string {
  if (id === undefined || id === null) return '';
  if (Array.isArray(id) || id instanceof Uint8Array) return Buffer.from(id as number[]).toString('hex');
  return String(id).toLowerCase(); // OTLP/JSON: already hex
}

function attributesOf(list: any[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) attributes[key] = valueOf(value);
  return attributes;
}

function valueOf(value: any): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined && value.stringValue !== null) return value.stringValue;
  if (value.boolValue !== undefined && value.boolValue !== null) return value.boolValue;
  if (value.intValue !== undefined && value.intValue !== null) return Number(value.intValue);
  if (value.doubleValue !== undefined && value.doubleValue !== null) return Number(value.doubleValue);
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue) return attributesOf(value.kvlistValue.values);
  return undefined;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
