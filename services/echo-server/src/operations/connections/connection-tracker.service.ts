import { destroyUnlessClosed, type SocketRejection, type TlsHandshakeRefusal, type TransportName, formatPeer } from '@echo-pair/common';
import { Injectable, Logger } from '@nestjs/common';
import type { DropArgument, Socket } from 'node:net';
import { StatsService } from '../stats/stats.service';

export interface ClosedConnections {
  /** Connections that were open when `closeAll` began. */
  closed: number;
  /** Of those, the ones destroyed because their peer had not closed its side within the grace period. */
  cutOff: number;
}

/**
 * Logs each connection's open and close with the peer address (at debug level: a container's
 * healthcheck alone opens one every 5 s), counts them, and closes them all on shutdown.
 */
@Injectable()
export class ConnectionTracker {
  private readonly logger = new Logger(ConnectionTracker.name);
  private readonly sockets = new Set<Socket>();

  constructor(private readonly stats: StatsService) {}

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Returns the connection's number, unique in this process. */
  track(socket: Socket, transport: TransportName): number {
    this.sockets.add(socket);
    const id = this.stats.connectionOpened(transport);
    const peer = formatPeer(socket);
    const openedAt = performance.now();
    this.logger.debug(`connection #${id} opened from ${peer} over ${transport} (${this.stats.openConnections} open)`);
    socket.once('close', (hadError: boolean) => {
      this.sockets.delete(socket);
      this.stats.connectionClosed(transport);
      const seconds = ((performance.now() - openedAt) / 1000).toFixed(3);
      const outcome = hadError ? 'closed with an error' : 'closed';
      this.logger.debug(
        `connection #${id} from ${peer} ${outcome} after ${seconds} s, ${socket.bytesRead} bytes in, ${socket.bytesWritten} bytes out (${this.stats.openConnections} open)`,
      );
    });
    return id;
  }

  /**
   * Ends every open connection: its FIN follows what is already queued on it, and
   * the peer is expected to close its side; a connection still open after
   * `graceMs` is destroyed. Resolves once every one has closed.
   */
  async closeAll(graceMs: number): Promise<ClosedConnections> {
    const sockets = [...this.sockets];
    const destroyed = await Promise.all(
      sockets.map((socket) => {
        // Frames that still arrive reach no handler: their reply could not follow our FIN.
        socket.removeAllListeners('message');
        socket.end();
        return destroyUnlessClosed(socket, graceMs);
      }),
    );
    const cutOff = destroyed.filter(Boolean).length;
    return { closed: sockets.length, cutOff };
  }

  /** A connection the framed socket closed because its peer broke the framing or a limit. */
  rejected({ reason, peer, detail }: SocketRejection): void {
    this.stats.recordRejection(reason);
    this.logger.warn(`connection from ${peer} rejected: ${reason} (${detail})`);
  }

  /** A TLS handshake the server refused; counted with the framing's rejections. */
  tlsRefused({ peer, reason, detail }: TlsHandshakeRefusal): void {
    this.stats.recordRejection('TLS_HANDSHAKE_REFUSED');
    this.logger.warn(`TLS handshake from ${peer} refused: ${reason} (${detail})`);
  }

  /** A connection closed on arrival because MAX_CONNECTIONS were open. */
  dropped(peer: DropArgument, maxConnections: number, setting = 'MAX_CONNECTIONS'): void {
    this.stats.connectionRejected();
    this.logger.warn(`connection from ${formatPeer(peer)} refused: ${maxConnections} connections open (${setting})`);
  }
}
