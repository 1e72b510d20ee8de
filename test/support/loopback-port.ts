import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/** A TCP server on 127.0.0.1 that accepts nothing useful: it only holds its port. */
export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/** Takes a free port on 127.0.0.1 and keeps it in use until `release()`. */
export async function holdPort(): Promise<HeldPort> {
  const server: Server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    release: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (free when returned; another process could take it later). */
export async function freePort(): Promise<number> {
  const held = await holdPort();
  await held.release();
  return held.port;
}
