/**
 * One error hierarchy for the whole gateway. Each error knows its HTTP status and its GraphQL
 * `extensions.code`; only the edges (REST, GraphQL) translate it into their wire shape.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_TIMEOUT'
  | 'SERVICE_UNAVAILABLE'
  | 'CLIENT_CLOSED_REQUEST'
  | 'INTERNAL_SERVER_ERROR';

export class GatewayError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: ErrorCode,
    /** Extra fields for GraphQL `extensions` (never secrets). */
    readonly extensions: Readonly<Record<string, unknown>> = {},
    /** Extra response headers for REST (e.g. `Retry-After`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends GatewayError {
  constructor(message: string) {
    super(message, 400, 'BAD_USER_INPUT');
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(message: string, readonly challenge = 'Bearer error="invalid_token"') {
    super(message, 401, 'UNAUTHENTICATED', {}, { 'www-authenticate': challenge });
  }
}

export class ForbiddenError extends GatewayError {
  constructor(message: string) {
    super(message, 403, 'FORBIDDEN');
  }
}

export class NotFoundError extends GatewayError {
  constructor(message: string) {
    super(message, 404, 'NOT_FOUND');
  }
}

export class PayloadTooLargeError extends GatewayError {
  constructor(limit: number) {
    super(`Request body is larger than the limit of ${limit} bytes`, 413, 'PAYLOAD_TOO_LARGE');
  }
}

export class ServiceUnavailableError extends GatewayError {
  constructor(message: string) {
    super(message, 503, 'SERVICE_UNAVAILABLE');
  }
}

/** The provider answered with an error status; its status and message are kept. */
export class UpstreamError extends GatewayError {
  constructor(provider: string, status: number, message: string, headers: Record<string, string> = {}) {
    const code = status === 429 ? 'RATE_LIMITED' : 'UPSTREAM_ERROR';
    super(`${provider}: ${message}`, status, code, { provider, status }, headers);
  }
}

/** The provider could not be reached, or answered with something that is not what it promised. */
export class UpstreamUnavailableError extends GatewayError {
  constructor(provider: string, message: string) {
    super(`${provider}: ${message}`, 502, 'UPSTREAM_ERROR', { provider, status: 502 });
  }
}

export class UpstreamTimeoutError extends GatewayError {
  constructor(provider: string, ms: number, what = 'no response within') {
    super(`${provider}: ${what} ${formatMs(ms)}`, 504, 'UPSTREAM_TIMEOUT', { provider, status: 504 });
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The caller's own signal aborted the exchange: nobody is waiting for an answer. Routine, not a
 * failure (499 as nginx names it); edges drop it silently.
 */
export class ClientGoneError extends GatewayError {
  constructor() {
    super('client went away', 499, 'CLIENT_CLOSED_REQUEST');
  }
}

/** Anything that is not a GatewayError is a bug: hide its details from clients. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('Internal server error', 500, 'INTERNAL_SERVER_ERROR');
}
