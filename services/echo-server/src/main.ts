import 'reflect-metadata';
import { InvalidConfigurationError } from '@echo-pair/common';
import { startEchoServer } from './echo-server.factory';
import { drainOnSignals } from './shutdown/shutdown-signals';

/**
 * Exit codes: 1 when the server cannot start, 2 when its configuration is invalid;
 * after SIGTERM/SIGINT, 0 once drained, 1 if DRAIN_TIMEOUT_MS passed with requests open or on a second signal.
 */
async function main(): Promise<void> {
  const server = await startEchoServer();
  drainOnSignals(() => server.drain());
}

main().catch((error: unknown) => {
  console.error(`echo-server failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof InvalidConfigurationError ? 2 : 1);
});
