import type { Server } from 'node:net';

/**
 * The listen backlog of the connection doors: how many connections the kernel completes and
 * queues for `accept` before it drops further ones unseen (Node's default is 511; Linux caps the
 * value at net.core.somaxconn, 4096 by default). A burst of thousands must reach the admission,
 * so that each refused connection is told why instead of vanishing in the kernel.
 */
export const LISTEN_BACKLOG = 4096;

/**
 * Runs `listen` (Nest's, which calls `server.listen(port, host, callback)`) with `backlog` passed
 * to the server: Nest has no backlog option.
 */
export function listenWithBacklog(server: Server, backlog: number, listen: () => void): void {
  const listenWith = server.listen.bind(server) as (...args: unknown[]) => Server;
  // An own property in front of the prototype's method, for this one call.
  server.listen = ((port: number, host: string, callback: () => void) => listenWith(port, host, backlog, callback)) as Server['listen'];
  try {
    listen();
  } finally {
    delete (server as Partial<Pick<Server, 'listen'>>).listen;
  }
}
