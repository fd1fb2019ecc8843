/**
 * Structured JSON logs (pino). Secrets are redacted by path as a second line of defence; the first
 * is never putting keys or tokens into log objects at all.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(environment: string, destination?: DestinationStream): Logger {
  const options = {
    level: process.env.LOG_LEVEL ?? (environment === 'development' ? 'debug' : 'info'),
    base: { service: 'graphql-inference-gateway' },
    redact: {
      paths: [
        'authorization',
        'token',
        'apiKey',
        '*.authorization',
        '*.Authorization',
        '*["x-api-key"]',
        '*.apiKey',
        '*.token',
        'headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
