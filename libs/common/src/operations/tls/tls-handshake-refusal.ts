import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { formatPeer } from '../../transport/format-peer';

/** One TLS handshake the server refused (or the peer gave up), as the server logs it. */
export interface TlsHandshakeRefusal {
  /** `127.0.0.1:5050`, `[::1]:5050`, or `unknown` when neither socket knows it any more. */
  peer: string;
  /** A stable code: Node's or OpenSSL's (`ERR_SSL_WRONG_VERSION_NUMBER`), or the certificate check's (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
  reason: string;
  /** What it means, in words. */
  detail: string;
}

const HINTS: Readonly<Record<string, string>> = {
  ERR_SSL_WRONG_VERSION_NUMBER: 'not a TLS handshake: a plain-TCP client?',
  ERR_SSL_HTTP_REQUEST: 'an HTTP request, not a TLS handshake',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'the client sent no certificate',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'the client offers only protocol versions below the minimum',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'the handshake did not complete in time',
  ECONNRESET: 'the peer closed the connection during the handshake (did it refuse the server certificate?)',
};

/**
 * Describes a `tlsClientError` of a `tls.Server`. A client certificate that fails
 * verification makes Node destroy the TLS socket before the server hears of it: the
 * error is then a bare ECONNRESET, the reason is in `authorizationError`, and only the
 * wrapped TCP socket still knows the peer (`peerOf` gives it, from the server's `connection` event).
 */
export function describeTlsClientError(
  error: Error & { code?: string; reason?: string },
  socket: TLSSocket,
  peerOf: (socket: TLSSocket) => string | undefined = () => undefined,
): TlsHandshakeRefusal {
  const peer = socket.remoteAddress !== undefined ? formatPeer(socket) : (peerOf(socket) ?? 'unknown');
  const verifyError = socket.authorizationError;
  if (verifyError !== undefined && verifyError !== null) {
    const code = typeof verifyError === 'string' ? verifyError : ((verifyError as { code?: string }).code ?? String(verifyError));
    return { peer, reason: code, detail: 'client certificate rejected: it does not verify against TLS_CA_FILE' };
  }
  const reason = error.code ?? error.name;
  const openSslReason = typeof error.reason === 'string' ? error.reason : undefined;
  return { peer, reason, detail: HINTS[reason] ?? openSslReason ?? error.message.slice(0, 200) };
}

/**
 * Remembers the peer of each raw TCP connection of a TLS server, for refusals whose
 * TLS socket was already destroyed. Node keeps that TCP socket as the TLS socket's
 * `_parent` (not public API, hence the guard); a WeakMap so that nothing outlives its socket.
 */
export class TlsPeerMemory {
  private readonly peers = new WeakMap<Socket, string>();

  /** For the server's `connection` event (the TCP socket, before the handshake). */
  readonly remember = (socket: Socket): void => {
    this.peers.set(socket, formatPeer(socket));
  };

  readonly peerOf = (socket: TLSSocket): string | undefined => {
    const parent = (socket as TLSSocket & { _parent?: unknown })._parent;
    return typeof parent === 'object' && parent !== null ? this.peers.get(parent as Socket) : undefined;
  };
}
