import { formatPeer } from '@echo-pair/common';
import type { Socket } from 'node:net';
import { formatClientPeer } from './client-address';
import type { ProxyHeaderReader } from './proxy-header-reader';

/**
 * Learns who an accepted connection is from, then `serve`s it with that address and its
 * `address:port`: the socket's own peer, or with a `reader` (PROXY_PROTOCOL=true) the client a
 * trusted proxy's header names. A connection whose header is refused is destroyed after `refused`
 * is told why. `serve` attaches its listeners; the socket is resumed after it (the reader leaves it paused).
 */
export function withClientAddress(
  socket: Socket,
  reader: ProxyHeaderReader | undefined,
  serve: (address: string | undefined, peer: string) => void,
  refused: (peer: string, detail: string) => void,
): void {
  if (reader === undefined) {
    serve(socket.remoteAddress, formatPeer(socket));
    return;
  }
  void reader.read(socket).then((outcome) => {
    if (!outcome.ok) {
      refused(formatPeer(socket), `${outcome.failure}: ${outcome.reason}`);
      socket.destroy();
      return;
    }
    serve(outcome.client.address, formatClientPeer(socket));
    socket.resume();
  });
}
