import {
  describeTlsClientError,
  framedJsonSocket,
  TlsPeerMemory,
  type FramedJsonSocketOptions,
  type SocketRejection,
  type TlsHandshakeRefusal,
} from '@echo-pair/common';
import type { TcpOptions } from '@nestjs/microservices';
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { AdmissionReport } from '../../core/connection-refusal';
import type { ProxyHeaderReader } from '../proxy-protocol/proxy-header-reader';

/** Nest's TCP options, the framed socket's limits, the request rules and the connection limit of this server. */
export interface EchoServerTcpOptions extends NonNullable<TcpOptions['options']> {
  /**
   * With these limits, `socketClass` is `framedJsonSocket(framing)`, its rejections reported to
   * the hooks' `rejected`. The request rules need a `FramedJsonSocket`: this, or a `socketClass` of one.
   */
  framing?: Omit<FramedJsonSocketOptions, 'onRejection'>;
  /** Connections served at once; at the cap the longest-idle one (no complete frame) is closed for a newcomer (the hooks' `evicted`). */
  maxConnections?: number;
  /** With PROXY_PROTOCOL: reads the header of trusted proxies' connections; limits and logs then go by the client it names. Not with TLS. */
  proxyHeaders?: ProxyHeaderReader;
  /** Connections one address (an IPv6 /64) may hold; further ones are closed on arrival (the hooks' `refused`). 0 or unset: no limit. */
  maxConnectionsPerAddress?: number;
  /**
   * Requests (frames with an `id`) of one connection that may await their final reply; further
   * frames are left unread until one completes, and a request reusing the id of one in flight
   * is rejected (`DUPLICATE_REQUEST_ID`). 0 (the default) disables both.
   */
  maxInFlight?: number;
  /**
   * Rejects frames without a `pattern` (string, number or object): `NO_PATTERN`. Nest would treat
   * such a frame as an event with no handler and never answer it, id or not.
   */
  requirePattern?: boolean;
  /** `false`: stock `ServerTCP` routes and dispatches each frame that passes the request rules (ECHO_FAST_PATH=false). */
  fastPath?: boolean;
}

/** What the TCP transport reports to the rest of the server, without depending on it. */
export interface EchoServerTcpHooks extends AdmissionReport {
  /** A connection was admitted (with TLS, before its handshake). */
  opened(socket: Socket): void;
  /** A connection was closed because its peer broke the framing or a request rule. */
  rejected(rejection: SocketRejection): void;
  /** A TLS handshake failed: plain TCP, no client certificate, one from another CA, a timeout. */
  tlsRefused(refusal: TlsHandshakeRefusal): void;
}

/** The framed socket with these limits, its rejections reported to the hooks (logged without). */
export function framedSocketOf(framing: Omit<FramedJsonSocketOptions, 'onRejection'>, hooks: EchoServerTcpHooks | undefined) {
  return framedJsonSocket(hooks === undefined ? framing : { ...framing, onRejection: (rejection) => hooks.rejected(rejection) });
}

/** What `limitConnections` takes for the TCP door; refusals, evictions and refused headers go to the hooks (nowhere without). */
export function connectionLimitsOf(options: EchoServerTcpOptions, tls: boolean, hooks: EchoServerTcpHooks | undefined) {
  const { maxConnections = 0, maxConnectionsPerAddress = 0, proxyHeaders } = options;
  if (proxyHeaders !== undefined && tls) {
    throw new TypeError('EchoServerTcp: the PROXY protocol header precedes the TLS handshake; the two cannot be combined here');
  }
  return {
    transport: 'tcp',
    maxConnections,
    maxPerAddress: maxConnectionsPerAddress,
    capSetting: 'MAX_CONNECTIONS',
    report: hooks ?? { refused: () => undefined, evicted: () => undefined },
    proxyHeaders,
    headerRefused: (peer: string, detail: string) => hooks?.rejected({ reason: 'PROXY_HEADER_REFUSED', peer, detail }),
  } as const;
}

/** Hooks a server's connection events (and, with TLS, its failed handshakes), before it listens. */
export function reportConnections(server: NetServer, tls: boolean, hooks: EchoServerTcpHooks): void {
  server.on('connection', (socket: Socket) => hooks.opened(socket));
  if (tls) {
    // A failed handshake's socket may have lost its peer address: remembered from the connection.
    const peers = new TlsPeerMemory();
    server.on('connection', peers.remember);
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => hooks.tlsRefused(describeTlsClientError(error, socket, peers.peerOf)));
  }
}
