import type { Socket } from 'node:net';

/**
 * How long a peer has, after our FIN, to close its side before the socket is destroyed: the
 * client's `close()`, the server's drain, and a text connection's `quit` all give it this long.
 */
export const CLOSE_GRACE_MS = 1_000;

/**
 * After `end()`: destroys `socket` unless it closes within `graceMs`, since a peer that
 * never closes its side would keep the half-closed socket, and so the process, alive.
 * Resolves with whether it had to destroy it.
 */
export function destroyUnlessClosed(socket: Socket, graceMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(true); // first: `destroy` may emit 'close' at once
      socket.destroy();
    }, graceMs).unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
