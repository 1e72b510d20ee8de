import { Injectable, Logger } from '@nestjs/common';
import type { DropArgument, Socket } from 'node:net';
import type { SocketRejection } from '@echo-pair/common';
import { StatsService } from '../stats/stats.service';
import { formatPeer } from './format-peer';

/** Logs each connection's open and close with the peer address, and counts them. */
@Injectable()
export class ConnectionTracker {
  private readonly logger = new Logger(ConnectionTracker.name);

  constructor(private readonly stats: StatsService) {}

  track(socket: Socket): void {
    const id = this.stats.connectionOpened();
    const peer = formatPeer(socket);
    const openedAt = performance.now();
    this.logger.log(`connection #${id} opened from ${peer} (${this.stats.openConnections} open)`);
    socket.once('close', (hadError: boolean) => {
      this.stats.connectionClosed();
      const seconds = ((performance.now() - openedAt) / 1000).toFixed(3);
      const outcome = hadError ? 'closed with an error' : 'closed';
      this.logger.log(
        `connection #${id} from ${peer} ${outcome} after ${seconds} s, ${socket.bytesRead} bytes in, ${socket.bytesWritten} bytes out (${this.stats.openConnections} open)`,
      );
    });
  }

  /** A connection the framed socket closed because its peer broke the framing or a limit. */
  rejected({ reason, peer, detail }: SocketRejection): void {
    this.stats.recordRejection(reason);
    this.logger.warn(`connection from ${peer} rejected: ${reason} (${detail})`);
  }

  /** A connection closed on arrival because MAX_CONNECTIONS were open. */
  dropped(peer: DropArgument, maxConnections: number): void {
    this.stats.connectionRejected();
    this.logger.warn(`connection from ${formatPeer(peer)} refused: ${maxConnections} connections open (MAX_CONNECTIONS)`);
  }
}
