/**
 * Tracing with the OpenTelemetry SDK, loaded only when an OTLP endpoint is configured (tracing.ts).
 * Nothing here is registered globally: each gateway owns its tracer provider, propagator and
 * provider-call context, so two gateways in one process (tests) never share spans. Spans go
 * through a batch processor with a bounded queue: exporting never blocks a request, a slow or
 * absent collector costs dropped spans, not latency.
 */
import type { IncomingMessage } from 'node:http';
import {
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { hrTime, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config.js';
import { GatewayError, UpstreamError } from '../errors.js';
import type { CallRecord } from '../gateway.js';
import type { Logger } from '../logger.js';
import { answerOf, GEN_AI, genAiProviderName, inputContent, outputContent, requestAttributes, responseAttributes, StreamFacts } from './genai.js';
import { runOutgoing, type CallStart, type OutgoingTrace, type RequestEnd, type StreamTrace, type Tracing } from './tracing.js';

/*
 * Every span's start, end and events are given explicit high-resolution times (timeOrigin +
 * performance.now()): left to itself the SDK starts a span at Date.now() (whole milliseconds) and
 * ends it at start + a precise duration, so a span could appear to end after the next one started
 * (a fallback's attempts) or outlive its parent by up to a millisecond.
 */

/** The longest the final export at shutdown may take (less when OTEL_EXPORTER_OTLP_TIMEOUT is shorter). */
const FINAL_EXPORT_LIMIT_MS = 5000;

const getter: TextMapGetter<IncomingMessage['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

export async function createSdkTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  routeDiagnostics(logger);
  const exporter = await createExporter(config);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: config.maxExportBatchSize,
        scheduledDelayMillis: config.scheduledDelayMs,
        exportTimeoutMillis: config.exportTimeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer('graphql-inference-gateway');
  const propagator = new W3CTraceContextPropagator();
  const capture = config.captureMessageContent;
  logger.info({ endpoint: config.endpoint, protocol: config.protocol, service: config.serviceName, sampler: config.sampler }, 'tracing on: exporting spans over OTLP');

  const tracing: Tracing = {
    enabled: true,
    capturesContent: capture,

    startRequest(req, path, route, requestId, transport) {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, getter);
      const method = transport === 'websocket' ? 'GET' : (req.method ?? 'GET');
      const attributes: Attributes = {
        'http.request.method': method,
        'url.path': path,
        'url.scheme': 'http',
        'http.route': route,
      };
      if (requestId) attributes['gateway.request_id'] = requestId;
      if (transport) attributes['gateway.transport'] = transport;
      const userAgent = req.headers['user-agent'];
      if (userAgent) attributes['user_agent.original'] = userAgent;
      if (req.socket?.remoteAddress) attributes['client.address'] = req.socket.remoteAddress;
      return tracer.startSpan(transport === 'websocket' ? `subscribe ${route}` : `${method} ${route}`, { kind: SpanKind.SERVER, attributes, startTime: hrTime() }, parent);
    },

    endRequest(span, { status, outcome, identity }) {
      if (identity) {
        span.setAttribute('enduser.id', identity.subject);
        if (identity.clientId) span.setAttribute('gateway.client_id', identity.clientId);
      }
      if (status !== undefined) {
        span.setAttribute('http.response.status_code', status);
        // A server span is in error for 5xx only: 4xx are the caller's.
        if (status >= 500) {
          span.setAttribute('error.type', String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      if (outcome !== undefined) {
        span.setAttribute('gateway.outcome', outcome);
        if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(hrTime());
    },

    startCall(parent, call) {
      const attributes: Attributes = {
        [GEN_AI.operation]: call.operation,
        [GEN_AI.provider]: genAiProviderName(call.provider),
        [GEN_AI.system]: genAiProviderName(call.provider),
        [GEN_AI.requestModel]: call.model,
        'gateway.provider': call.provider,
        'gateway.attempt': call.attempt,
        'server.address': call.origin.hostname,
        'server.port': Number(call.origin.port) || (call.origin.protocol === 'https:' ? 443 : 80),
      };
      if (call.alias) attributes['gateway.alias'] = call.alias;
      if (call.stream) attributes[GEN_AI.stream] = true;
      if (call.asked !== undefined) {
        Object.assign(attributes, requestAttributes(call.asked));
        if (capture) Object.assign(attributes, inputContent(call.asked));
      }
      const context = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
      return tracer.startSpan(`${call.operation} ${call.model}`, { kind: SpanKind.CLIENT, attributes, startTime: hrTime() }, context);
    },

    within(span, send) {
      const outgoing: OutgoingTrace = { inject: (headers) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter) };
      return runOutgoing(outgoing, send);
    },

    callServed(span, record, result) {
      const answer = answerOf(result);
      span.setAttributes(responseAttributes(answer));
      setUsage(span, record);
      if (capture) span.setAttributes(outputContent(answer));
      span.end(hrTime());
    },

    callFailed(span, error) {
      fail(span, error);
      span.end(hrTime());
    },

    startProxyCall(parent, provider, method, origin, path) {
      const attributes: Attributes = {
        'http.request.method': method,
        'server.address': origin.hostname,
        'server.port': Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80),
        'url.path': path,
        'gateway.provider': provider,
      };
      const context = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
      return tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes, startTime: hrTime() }, context);
    },

    proxyEnded(span, status, error) {
      if (status !== undefined) {
        span.setAttribute('http.response.status_code', status);
        if (status >= 400) {
          span.setAttribute('error.type', String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      if (error !== undefined) fail(span, error);
      span.end(hrTime());
    },

    streamTrace(span, started) {
      const facts = new StreamFacts(capture);
      let first = true;
      return {
        item(item) {
          if (first) {
            first = false;
            span.setAttribute(GEN_AI.timeToFirstChunk, (performance.now() - started) / 1000);
            span.addEvent('gen_ai.first_chunk', hrTime());
          }
          facts.see(item);
        },
        end(record, failure) {
          span.setAttributes(facts.attributes());
          setUsage(span, record);
          if (failure !== undefined) fail(span, failure);
          span.end(hrTime());
        },
      } satisfies StreamTrace;
    },

    logFields(span) {
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },

    async shutdown() {
      // Bounded: a collector that is down (the exporter retries it) or hangs must not hold up the exit.
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.min(config.timeoutMs, FINAL_EXPORT_LIMIT_MS));
        timer.unref();
      });
      await Promise.race([provider.shutdown().catch((error) => logger.warn({ err: (error as Error).message }, 'tracing: final export failed')), limit]);
      clearTimeout(timer);
    },
  };
  return tracing;
}

function setUsage(span: Span, record: CallRecord): void {
  if (record.promptTokens !== undefined) span.setAttribute(GEN_AI.inputTokens, record.promptTokens);
  if (record.completionTokens !== undefined) span.setAttribute(GEN_AI.outputTokens, record.completionTokens);
  if (record.cachedTokens) span.setAttribute(GEN_AI.cachedTokens, record.cachedTokens);
  if (record.reasoningTokens) span.setAttribute(GEN_AI.reasoningTokens, record.reasoningTokens);
  if (record.tokensEstimated) span.setAttribute('gateway.tokens_estimated', true);
}

/** `error.type`: the provider's HTTP status when it answered with one, else the gateway's error code. */
function fail(span: Span, error: unknown): void {
  const type = error instanceof UpstreamError ? String(error.status) : error instanceof GatewayError ? error.code : ((error as Error)?.name ?? '_OTHER');
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
}

async function createExporter(config: TracingConfig): Promise<SpanExporter> {
  const options = { url: config.endpoint, headers: { ...config.headers }, timeoutMillis: config.timeoutMs };
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

function samplerOf({ sampler, samplerRatio }: TracingConfig): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(samplerRatio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The SDK's own warnings (export failures, dropped spans) go to the gateway's log, not to the console. */
function routeDiagnostics(logger: Logger): void {
  const log = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) => logger[level]({ otel: args.length > 0 ? args.map(String) : undefined }, `tracing: ${message}`);
  diag.setLogger(
    { error: log('error'), warn: log('warn'), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}
