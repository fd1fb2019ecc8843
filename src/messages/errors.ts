/** Anthropic's error shape for this door: `{"type":"error","error":{"type":"…","message":"…"}}`. */
import type { GatewayError } from '../errors.js';

/** The error type Anthropic's clients expect for an HTTP status. */
export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 405 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return 'api_error';
}

export function anthropicError(error: GatewayError): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
}
