/**
 * Prometheus metrics (prom-client), one registry per gateway. Names follow the OpenTelemetry
 * semantic conventions as their Prometheus export spells them (`gen_ai.client.token.usage` →
 * `gen_ai_client_token_usage`, attribute dots → underscores); what the conventions don't cover is
 * under `gateway_`.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type TokenType = 'input' | 'output';

// Bucket boundaries as the conventions advise them.
const OPERATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300];
/** The gateway's own time is sub-millisecond when healthy: fine buckets at the bottom. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  private readonly operationDuration: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'error_type'>;
  private readonly tokenUsage: Histogram<'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'gen_ai_token_type'>;
  private readonly timeToFirstChunk: Histogram<'gen_ai_provider_name' | 'gen_ai_request_model'>;
  private readonly subjectTokens: Counter<'subject' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'gen_ai_token_type'>;
  private readonly subjectRequests: Counter<'subject' | 'gen_ai_provider_name' | 'gen_ai_request_model' | 'outcome'>;
  private readonly overhead: Histogram<'transport'>;
  private readonly rateLimited: Counter<'subject' | 'limit'>;
  private readonly storeErrors: Counter<'outcome'>;
  private readonly fallbacks: Counter<'alias' | 'failed_target' | 'error_type'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests to the gateway, streams included (OpenTelemetry http.server.request.duration).',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.operationDuration = new Histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of calls to providers, from sending the request to the last byte (OpenTelemetry gen_ai.client.operation.duration).',
      labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    this.tokenUsage = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per call as providers report them, input (prompt) and output (completion) (OpenTelemetry gen_ai.client.token.usage).',
      labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.timeToFirstChunk = new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from the gateway receiving a streamed request to its first chunk (OpenTelemetry gen_ai.server.time_to_first_token).',
      labelNames: ['gen_ai_provider_name', 'gen_ai_request_model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.subjectTokens = new Counter({
      name: 'gateway_subject_tokens_total',
      help: 'Tokens used per subject (token azp or sub), provider, model and type; estimated when a stream ended without usage.',
      labelNames: ['subject', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      registers,
    });
    this.subjectRequests = new Counter({
      name: 'gateway_subject_requests_total',
      help: "Chat requests per subject, provider, model and outcome ('ok' or the error code).",
      labelNames: ['subject', 'gen_ai_provider_name', 'gen_ai_request_model', 'outcome'],
      registers,
    });
    this.overhead = new Histogram({
      name: 'gateway_overhead_seconds',
      help: "The gateway's own time per request that reached a provider: total duration minus time spent waiting on the provider.",
      labelNames: ['transport'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.rateLimited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused because their subject was over its requests or tokens per minute.',
      labelNames: ['subject', 'limit'],
      registers,
    });
    this.storeErrors = new Counter({
      name: 'gateway_rate_limit_store_errors_total',
      help: "Rate limit checks that could not reach the store; outcome says whether the request went through ('allowed', fail open) or not ('refused', fail closed).",
      labelNames: ['outcome'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'gateway_fallbacks_total',
      help: 'Times a fallback alias moved on from a failed target to the next one.',
      labelNames: ['alias', 'failed_target', 'error_type'],
      registers,
    });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ http_request_method: method, http_route: route, http_response_status_code: status }, seconds);
  }

  /** One provider call finished (or failed: `errorType` is the gateway error code). */
  operation(provider: string, model: string, seconds: number, errorType?: string): void {
    this.operationDuration.observe(
      { gen_ai_operation_name: 'chat', gen_ai_provider_name: provider, gen_ai_request_model: model, error_type: errorType ?? '' },
      seconds,
    );
  }

  tokens(subject: string, provider: string, model: string, input: number, output: number): void {
    const base = { gen_ai_provider_name: provider, gen_ai_request_model: model };
    this.tokenUsage.observe({ ...base, gen_ai_operation_name: 'chat', gen_ai_token_type: 'input' }, input);
    this.tokenUsage.observe({ ...base, gen_ai_operation_name: 'chat', gen_ai_token_type: 'output' }, output);
    this.subjectTokens.inc({ ...base, subject, gen_ai_token_type: 'input' }, input);
    this.subjectTokens.inc({ ...base, subject, gen_ai_token_type: 'output' }, output);
  }

  request(subject: string, provider: string, model: string, outcome: string): void {
    this.subjectRequests.inc({ subject, gen_ai_provider_name: provider, gen_ai_request_model: model, outcome });
  }

  firstChunk(provider: string, model: string, seconds: number): void {
    this.timeToFirstChunk.observe({ gen_ai_provider_name: provider, gen_ai_request_model: model }, seconds);
  }

  gatewayOverhead(transport: 'rest' | 'graphql', seconds: number): void {
    this.overhead.observe({ transport }, Math.max(0, seconds));
  }

  limited(subject: string, limit: 'requests' | 'tokens'): void {
    this.rateLimited.inc({ subject, limit });
  }

  storeFailed(open: boolean): void {
    this.storeErrors.inc({ outcome: open ? 'allowed' : 'refused' });
  }

  fallback(alias: string, failedTarget: string, errorType: string): void {
    this.fallbacks.inc({ alias, failed_target: failedTarget, error_type: errorType });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
