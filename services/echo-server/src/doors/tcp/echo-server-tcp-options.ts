import { framedJsonSocket, type FramedJsonSocketOptions, type SocketRejection, type TlsHandshakeRefusal } from '@echo-pair/common';
import type { TcpOptions } from '@nestjs/microservices';
import type { DropArgument, Socket } from 'node:net';

/** Nest's TCP options, the framed socket's limits, the request rules and the connection limit of this server. */
export interface EchoServerTcpOptions extends NonNullable<TcpOptions['options']> {
  /**
   * With these limits, `socketClass` is `framedJsonSocket(framing)`, its rejections reported to
   * the hooks' `rejected`. The request rules need a `FramedJsonSocket`: this, or a `socketClass` of one.
   */
  framing?: Omit<FramedJsonSocketOptions, 'onRejection'>;
  /** Connections served at once; further ones are closed on arrival (the hooks' `dropped`). */
  maxConnections?: number;
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
export interface EchoServerTcpHooks {
  /** A connection was accepted (with TLS, before its handshake). */
  opened(socket: Socket): void;
  /** A connection was closed on arrival because `maxConnections` were open. */
  dropped(peer: DropArgument): void;
  /** A connection was closed because its peer broke the framing or a request rule. */
  rejected(rejection: SocketRejection): void;
  /** A TLS handshake failed: plain TCP, no client certificate, one from another CA, a timeout. */
  tlsRefused(refusal: TlsHandshakeRefusal): void;
}

/** The framed socket with these limits, its rejections reported to the hooks (logged without). */
export function framedSocketOf(framing: Omit<FramedJsonSocketOptions, 'onRejection'>, hooks: EchoServerTcpHooks | undefined) {
  return framedJsonSocket(hooks === undefined ? framing : { ...framing, onRejection: (rejection) => hooks.rejected(rejection) });
}
