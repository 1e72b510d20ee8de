import 'reflect-metadata';
import { InvalidConfigurationError } from '@echo-pair/common';
import { startEchoServer } from './echo-server.factory';

/** Exit codes: 1 when the server cannot start, 2 when its configuration is invalid. */
async function main(): Promise<void> {
  const server = await startEchoServer();
  server.app.enableShutdownHooks(['SIGINT', 'SIGTERM']);
}

main().catch((error: unknown) => {
  console.error(`echo-server failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof InvalidConfigurationError ? 2 : 1);
});
