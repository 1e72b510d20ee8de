import type { Type } from '@nestjs/common';
import { JsonSocket, type JsonSocketOptions, type TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';

/**
 * Nest's own `JsonSocket` (same framing, same limits) with Nagle's algorithm
 * turned off. With it on, a small write that follows one the peer does not
 * answer (an event, then a request) waits for the peer's delayed ACK: about
 * 40 ms per call on Linux. Use it as the TCP transport's `socketClass` on both
 * sides. Nest passes framing options only to `JsonSocket` itself, so the
 * subclass carries them.
 */
export function noDelayJsonSocket(options?: JsonSocketOptions): Type<TcpSocket> {
  return class NoDelayJsonSocket extends JsonSocket {
    constructor(socket: Socket) {
      super(socket, options);
      socket.setNoDelay(true);
    }
  };
}
