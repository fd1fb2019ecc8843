/**
 * Structured JSON logs (pino). Secrets are redacted by path as a second line of defence; the first
 * is never putting keys or tokens into log objects at all.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// Exact paths only: wildcard paths cost pino about half of each log line's time.
const REDACT = ['authorization', 'token', 'apiKey', 'headers.authorization', 'req.headers.authorization', 'headers["x-api-key"]'];

/**
 * Without a destination, logs go to stdout through an asynchronous buffer: a synchronous write per
 * request line costs a third of the gateway's throughput. `flushLogs` runs before exit.
 */
export function createLogger(environment: string, destination?: DestinationStream): Logger {
  const options = {
    level: process.env.LOG_LEVEL ?? (environment === 'development' ? 'debug' : 'info'),
    base: { service: 'graphql-inference-gateway' },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }));
}

export function flushLogs(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // Nothing buffered, or stdout already closed.
  }
}
