/** Entry point: configuration, then the server. Bad configuration stops here, before anything listens. */
import { ConfigError, loadConfig } from './config.js';
import { flushLogs } from './logger.js';
import { startGateway } from './server.js';

try {
  const config = loadConfig();
  const app = await startGateway(config);
  const configured = app.gateway.configuredProviders().map((p) => p.id);
  app.logger.info({ url: app.url, providers: configured, auth: config.auth.enabled }, 'gateway listening');
  console.log(`GraphQL Inference Gateway listening on ${app.url} (GraphQL at ${app.url}/graphql)`);

  // First signal: drain gracefully. Second signal: cut what is left now.
  const force = new AbortController();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.logger.warn({ signal }, 'second signal: cutting in-flight requests');
      force.abort();
      return;
    }
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.shutdown(config.server.shutdownTimeoutMs, force.signal).then(
      () => {
        app.logger.info('stopped');
        flushLogs(app.logger);
        process.exit(0);
      },
      (error) => {
        app.logger.error({ err: error }, 'shutdown failed');
        flushLogs(app.logger);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`Failed to start: ${(error as Error).message}`);
  process.exit(1);
}
