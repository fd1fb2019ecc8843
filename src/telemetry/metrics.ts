/**
 * Prometheus metrics: prom-client's registry and exposition, with the process metrics it collects,
 * and the gateway's own series kept in series.ts (cheap on the request path), one registry per gateway. Names follow the OpenTelemetry
 * semantic conventions as their Prometheus export spells them (`gen_ai.client.token.usage` →
 * `gen_ai_client_token_usage`, attribute dots → underscores); what the conventions don't cover is
 * under `gateway_`.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CounterSeries, HistogramSeries } from './series.js';

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
  private readonly httpDuration: HistogramSeries;
  private readonly operationDuration: HistogramSeries;
  private readonly tokenUsage: HistogramSeries;
  private readonly timeToFirstChunk: HistogramSeries;
  private readonly subjectTokens: CounterSeries;
  private readonly subjectRequests: CounterSeries;
  private readonly overhead: HistogramSeries;
  private readonly rateLimited: CounterSeries;
  private readonly storeErrors: CounterSeries;
  private readonly fallbacks: CounterSeries;
  private readonly subjectCost: CounterSeries;
  private readonly ledgerWritten: CounterSeries;
  private readonly ledgerDropped: CounterSeries;

  constructor() {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    this.httpDuration = new HistogramSeries(
      'http_server_request_duration_seconds',
      'Duration of HTTP requests to the gateway, streams included (OpenTelemetry http.server.request.duration).',
      ['http_request_method', 'http_route', 'http_response_status_code'],
      HTTP_BUCKETS,
      r,
    );
    this.operationDuration = new HistogramSeries(
      'gen_ai_client_operation_duration_seconds',
      'Duration of calls to providers, from sending the request to the last byte (OpenTelemetry gen_ai.client.operation.duration).',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'],
      OPERATION_BUCKETS,
      r,
    );
    this.tokenUsage = new HistogramSeries(
      'gen_ai_client_token_usage',
      'Tokens per call as providers report them, input (prompt) and output (completion) (OpenTelemetry gen_ai.client.token.usage).',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      TOKEN_BUCKETS,
      r,
    );
    this.timeToFirstChunk = new HistogramSeries(
      'gen_ai_server_time_to_first_token_seconds',
      'Time from the gateway receiving a streamed request to its first chunk (OpenTelemetry gen_ai.server.time_to_first_token).',
      ['gen_ai_provider_name', 'gen_ai_request_model'],
      TTFT_BUCKETS,
      r,
    );
    this.subjectTokens = new CounterSeries(
      'gateway_subject_tokens_total',
      'Tokens used per subject (token azp or sub), provider, model and type; estimated when a stream ended without usage.',
      ['subject', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      r,
    );
    this.subjectRequests = new CounterSeries(
      'gateway_subject_requests_total',
      "Chat and embeddings requests per subject, provider, model and outcome ('ok' or the error code).",
      ['subject', 'gen_ai_provider_name', 'gen_ai_request_model', 'outcome'],
      r,
    );
    this.overhead = new HistogramSeries(
      'gateway_overhead_seconds',
      "The gateway's own time per request that reached a provider: total duration minus time spent waiting on the provider.",
      ['transport'],
      OVERHEAD_BUCKETS,
      r,
    );
    this.rateLimited = new CounterSeries(
      'gateway_rate_limited_total',
      'Requests refused because their subject was over its requests or tokens per minute.',
      ['subject', 'limit'],
      r,
    );
    this.storeErrors = new CounterSeries(
      'gateway_rate_limit_store_errors_total',
      "Rate limit checks that could not reach the store; outcome says whether the request went through ('allowed', fail open) or not ('refused', fail closed).",
      ['outcome'],
      r,
    );
    this.subjectCost = new CounterSeries(
      'gateway_subject_cost_usd_total',
      'Cost in USD of provider calls per subject (token azp or sub), provider and model, from MODEL_PRICES and the built-in price table.',
      ['subject', 'provider', 'model'],
      r,
    );
    this.ledgerWritten = new CounterSeries('gateway_usage_records_written_total', 'Usage records written to the ledger database.', [], r);
    this.ledgerDropped = new CounterSeries(
      'gateway_usage_records_dropped_total',
      'Usage records dropped because the ledger database was away longer than USAGE_BUFFER_SIZE records could wait.',
      [],
      r,
    );
    // Exported from the start at 0: an alert on "dropped > 0" needs the series to exist.
    this.ledgerWritten.inc([], 0);
    this.ledgerDropped.inc([], 0);
    this.fallbacks = new CounterSeries(
      'gateway_fallbacks_total',
      'Times a fallback alias moved on from a failed target to the next one.',
      ['alias', 'failed_target', 'error_type'],
      r,
    );
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe([method, route, String(status)], seconds);
  }

  /** One provider call finished (or failed: `errorType` is the gateway error code). */
  operation(operation: string, provider: string, model: string, seconds: number, errorType = ''): void {
    this.operationDuration.observe([operation, provider, model, errorType], seconds);
  }

  tokens(operation: string, subject: string, provider: string, model: string, input: number, output: number): void {
    this.tokenUsage.observe([operation, provider, model, 'input'], input);
    // Embeddings produce no output tokens: no zero observation for them.
    if (operation !== 'embeddings') this.tokenUsage.observe([operation, provider, model, 'output'], output);
    this.subjectTokens.inc([subject, provider, model, 'input'], input);
    if (operation !== 'embeddings') this.subjectTokens.inc([subject, provider, model, 'output'], output);
  }

  request(subject: string, provider: string, model: string, outcome: string): void {
    this.subjectRequests.inc([subject, provider, model, outcome]);
  }

  firstChunk(provider: string, model: string, seconds: number): void {
    this.timeToFirstChunk.observe([provider, model], seconds);
  }

  gatewayOverhead(transport: 'rest' | 'graphql', seconds: number): void {
    this.overhead.observe([transport], Math.max(0, seconds));
  }

  limited(subject: string, limit: 'requests' | 'tokens' | 'spend'): void {
    this.rateLimited.inc([subject, limit]);
  }

  storeFailed(open: boolean): void {
    this.storeErrors.inc([open ? 'allowed' : 'refused']);
  }

  cost(subject: string, provider: string, model: string, usd: number): void {
    if (usd > 0) this.subjectCost.inc([subject, provider, model], usd);
  }

  written(records: number): void {
    this.ledgerWritten.inc([], records);
  }

  dropped(records: number): void {
    this.ledgerDropped.inc([], records);
  }

  fallback(alias: string, failedTarget: string, errorType: string): void {
    this.fallbacks.inc([alias, failedTarget, errorType]);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
