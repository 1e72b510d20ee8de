import 'reflect-metadata';
import { startEchoServer } from './echo-server.factory';

async function main(): Promise<void> {
  const server = await startEchoServer();
  server.app.enableShutdownHooks(['SIGINT', 'SIGTERM']);
}

main().catch((error: unknown) => {
  console.error(`echo-server failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
