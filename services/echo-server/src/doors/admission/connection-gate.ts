import { CLOSE_GRACE_MS, destroyUnlessClosed, formatPeer, type TransportName } from '@echo-pair/common';
import type { Server, Socket } from 'node:net';
import type { AdmissionReport, ConnectionRefusal } from '../../core/connection-refusal';
import type { ProxyHeaderReader } from '../proxy-protocol/proxy-header-reader';
import { withClientAddress } from '../proxy-protocol/with-client-address';
import { ConnectionAdmission, type AdmissionLimits, type AdmittedConnection } from './connection-admission';

export interface ConnectionGateOptions extends AdmissionLimits {
  transport: TransportName;
  /** The door's cap setting, as an eviction names it: MAX_CONNECTIONS or TEXT_MAX_CONNECTIONS. */
  capSetting: string;
  report: AdmissionReport;
  /** The line a refused connection is sent before the close (the text door); none: closed without a word. */
  refusalLine?: (refusal: ConnectionRefusal) => Buffer;
}

/**
 * A connection door's admission: admits an accepted socket (releasing its place when it closes)
 * or refuses it, reporting both; see `ConnectionAdmission` for the rules.
 */
export class ConnectionGate {
  private readonly admission: ConnectionAdmission;

  constructor(private readonly options: ConnectionGateOptions) {
    this.admission = new ConnectionAdmission(options);
  }

  /**
   * Admits `socket`, whose peer is `address` (its own, or the client's from a PROXY header):
   * returns its place, released when it closes; at the door's cap `giveWay` is called to close
   * it for a newcomer. Or refuses it (its refusal line, then the close) and returns undefined.
   */
  admit(socket: Socket, giveWay: () => void, address = socket.remoteAddress, peer = formatPeer(socket)): AdmittedConnection | undefined {
    const { transport, capSetting, report } = this.options;
    const admission = this.admission.admit(address, ({ key, lastActive }) => {
      report.evicted({ transport, peer, address: key, setting: capSetting, idleMs: Math.round(performance.now() - lastActive) });
      giveWay();
    });
    if (!admission.admitted) {
      const refusal: ConnectionRefusal = { transport, limit: admission.limit, peer, address: admission.key, max: admission.max };
      report.refused(refusal);
      refuse(socket, this.options.refusalLine?.(refusal));
      return undefined;
    }
    const { connection } = admission;
    socket.once('close', () => this.admission.release(connection));
    return connection;
  }
}

/**
 * Closes a refused connection after `line`. What the peer sends meanwhile is read and discarded:
 * closing with unread input would reset the connection, and the peer could lose the line.
 */
function refuse(socket: Socket, line?: Buffer): void {
  socket.on('error', () => undefined);
  socket.resume();
  if (line === undefined) {
    socket.end();
  } else {
    socket.end(line);
  }
  void destroyUnlessClosed(socket, CLOSE_GRACE_MS);
}

/**
 * Puts `gate` in front of the `connection` listeners the server has so far (for a TLS server, its
 * handshake among them): they run for a socket only once the gate passes it on.
 */
function gateConnections(server: Server, gate: (socket: Socket, pass: () => void) => void): void {
  const listeners = server.rawListeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => gate(socket, () => listeners.forEach((listener) => listener.call(server, socket))));
}

/**
 * Limits the connections of a door whose connections are handed to `connection` listeners (Nest's
 * TCP transport), by the client's address (`withClientAddress`): an admitted socket is passed on
 * (`admitted` learns its place first), a refused one is closed, an evicted one is ended.
 */
export function limitConnections(
  server: Server,
  options: ConnectionGateOptions & { proxyHeaders?: ProxyHeaderReader; headerRefused: (peer: string, detail: string) => void },
  admitted: (socket: Socket, connection: AdmittedConnection) => void,
): void {
  const gate = new ConnectionGate(options);
  gateConnections(server, (socket, pass) =>
    withClientAddress(
      socket,
      options.proxyHeaders,
      (address, peer) => {
        const connection = gate.admit(
          socket,
          () => {
            socket.end();
            void destroyUnlessClosed(socket, CLOSE_GRACE_MS);
          },
          address,
          peer,
        );
        if (connection !== undefined) {
          admitted(socket, connection);
          pass();
        }
      },
      options.headerRefused,
    ),
  );
}
