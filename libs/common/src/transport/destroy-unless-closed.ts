import type { Socket } from 'node:net';

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
