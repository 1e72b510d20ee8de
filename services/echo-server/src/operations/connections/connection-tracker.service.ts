import { destroyUnlessClosed, type SocketRejection, type TlsHandshakeRefusal, type TransportName, formatPeer } from '@echo-pair/common';
import { Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Socket } from 'node:net';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import type { ConnectionEviction, ConnectionRefusal } from '../../core/connection-refusal';
import { StatsService } from '../stats/stats.service';
import { RefusalSummary } from './refusal-summary';

export interface ClosedConnections {
  /** Connections that were open when `closeAll` began. */
  closed: number;
  /** Of those, the ones destroyed because their peer had not closed its side within the grace period. */
  cutOff: number;
}

/**
 * Logs each connection's open and close with the peer address (at debug level: a container's
 * healthcheck alone opens one every 5 s), counts them, and closes them all on shutdown. Refusals,
 * rejections and evictions are counted each and logged through a `RefusalSummary`: one line per
 * REFUSAL_LOG_INTERVAL_MS under attack, whatever the attacker does.
 */
@Injectable()
export class ConnectionTracker implements OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionTracker.name);
  private readonly sockets = new Set<Socket>();
  private readonly summary: RefusalSummary;

  constructor(
    private readonly stats: StatsService,
    @Optional() config?: ConfigService<EchoServerEnvironment, true>,
  ) {
    const intervalMs = config?.get('REFUSAL_LOG_INTERVAL_MS', { infer: true }) ?? 10_000;
    const fullLines = config?.get('REFUSAL_LOG_FULL_LINES', { infer: true });
    this.summary = new RefusalSummary(intervalMs, (line) => this.logger.warn(line), fullLines);
  }

  onApplicationShutdown(): void {
    this.summary.flush();
  }

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
    this.summary.record(`rejected ${reason}`, addressOf(peer), `connection from ${peer} rejected: ${reason} (${detail})`);
  }

  /** A TLS handshake the server refused; counted with the framing's rejections. */
  tlsRefused({ peer, reason, detail }: TlsHandshakeRefusal): void {
    this.stats.recordRejection('TLS_HANDSHAKE_REFUSED');
    this.summary.record(`TLS handshake refused ${reason}`, addressOf(peer), `TLS handshake from ${peer} refused: ${reason} (${detail})`);
  }

  /** A connection refused on arrival by MAX_CONNECTIONS_PER_ADDRESS. */
  refused({ transport, limit, peer, address, max }: ConnectionRefusal): void {
    this.stats.connectionRejected();
    this.summary.record(
      `refused by ${limit} on ${transport}`,
      address,
      `connection from ${peer} refused on ${transport}: ${max} connections from ${address} are open (${limit})`,
    );
  }

  /** A connection closed, the longest idle, to make room for a newcomer at its door's cap. */
  evicted({ transport, peer, address, setting, idleMs }: ConnectionEviction): void {
    this.stats.connectionEvicted();
    this.summary.record(
      `evicted at ${setting} on ${transport}`,
      address,
      `connection from ${peer} on ${transport} closed for a newcomer: ${setting} reached and it was the longest idle (${(idleMs / 1000).toFixed(1)} s)`,
    );
  }

  /** A text connection closed by the text door for a reason of its own (a line deadline), summarized with the rest. */
  closedByDoor(transport: TransportName, reason: string, peer: string, detail: string): void {
    this.summary.record(
      `closed by ${reason} on ${transport}`,
      addressOf(peer),
      `connection from ${peer} on ${transport} closed: ${reason} (${detail})`,
    );
  }
}

/** The address of an `address:port` (`[v6]:port`) peer. */
function addressOf(peer: string): string {
  const match = /^\[?(.*?)\]?:\d+$/.exec(peer);
  return match === null ? peer : match[1];
}
