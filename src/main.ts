/** Entry point: configuration, then the server. Bad configuration stops here, before anything listens. */
import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './server.js';

try {
  const config = loadConfig();
  const app = await startGateway(config);
  const configured = app.gateway.configuredProviders().map((p) => p.id);
  app.logger.info({ url: app.url, providers: configured, auth: config.auth.enabled }, 'gateway listening');
  console.log(`GraphQL Inference Gateway listening on ${app.url} (GraphQL at ${app.url}/graphql)`);
  const stop = () => {
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`Failed to start: ${(error as Error).message}`);
  process.exit(1);
}
