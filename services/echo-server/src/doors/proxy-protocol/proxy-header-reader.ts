import { formatPeer } from '@echo-pair/common';
import type { Socket } from 'node:net';
import { rememberClientAddress, socketAddressOf, type ClientAddress } from './client-address';
import { parseProxyHeader } from './proxy-header';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { TrustedProxies } from '../../config/trusted-proxies';

/** Five seconds: above a TCP retransmission (the specification asks for at least 3 s), short for a stalled peer. */
export const DEFAULT_HEADER_TIMEOUT_MS = 5_000;

export interface ProxyHeaderReaderOptions {
  /** The peers whose headers are read; every other peer is a direct client (TrustedProxies.NONE: all are). */
  trustedProxies: TrustedProxies;
  /** How long a trusted peer has to send its complete header; DEFAULT_HEADER_TIMEOUT_MS when omitted. */
  headerTimeoutMs?: number;
}

/** Why a connection is to be closed instead of served. */
type ProxyHeaderFailure =
  /** The header began as one and broke the specification (its reason says how). */
  | 'INVALID_HEADER'
  /** A trusted proxy's connection did not begin with a header. */
  | 'NO_HEADER'
  /** No complete header within `headerTimeoutMs`. */
  | 'HEADER_TIMEOUT'
  /** The peer closed, reset or errored before its header was complete (or before it was read at all). */
  | 'CLOSED';

/**
 * What `read` found. `ok`: serve the connection with `client`, which came from
 * - `direct`: the socket itself, a peer not in the trusted list (its bytes, whatever they are, are the door's);
 * - `header`: a trusted proxy's PROXY header (also what `clientAddressOf` answers from now on);
 * - `local`: the socket itself, a trusted proxy's own connection (v2 LOCAL, v1 UNKNOWN, ...).
 * Not `ok`: close the connection (`socket.destroy()`); `reason` is for the log.
 */
export type ProxyHeaderOutcome =
  { ok: true; client: ClientAddress; via: 'direct' | 'header' | 'local' } | { ok: false; failure: ProxyHeaderFailure; reason: string };

/**
 * Reads the PROXY protocol header of accepted connections before their door sees a byte.
 *
 * `read(socket)` is to be called at once on accept, before anything listens for `data` and with
 * no encoding set. It resolves (never rejects) with the outcome and leaves the socket **paused**
 * (`readableFlowing === false`), the header stripped and the bytes after it put back in front of
 * the rest (`unshift`), so the door, on `ok`, attaches its `data` listener and then calls
 * `socket.resume()`; the bytes flow from the first one after the header, in order. Adding a `data`
 * listener alone does not start a paused socket. It also leaves a no-op `error` listener, so that a
 * reset between the outcome and the door's own listeners does not crash the process ('close' follows).
 */
export class ProxyHeaderReader {
  private readonly timeoutMs: number;

  constructor(private readonly options: ProxyHeaderReaderOptions) {
    this.timeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`headerTimeoutMs must be a positive integer, got ${this.timeoutMs}`);
    }
  }

  read(socket: Socket): Promise<ProxyHeaderOutcome> {
    if (socket.readableEncoding !== null) {
      throw new TypeError('ProxyHeaderReader reads bytes: set the socket encoding after the header, not before');
    }
    socket.on('error', ignore);
    socket.pause();
    const peer = socketAddressOf(socket);
    if (peer === undefined || socket.destroyed) {
      return Promise.resolve({ ok: false, failure: 'CLOSED', reason: 'the connection closed before its header was read' });
    }
    // An untrusted peer's header is not parsed: it cannot name another client, and direct clients keep working.
    if (!this.options.trustedProxies.trusts(peer.address)) {
      return Promise.resolve({ ok: true, client: peer, via: 'direct' });
    }
    return readHeader(socket, peer, this.timeoutMs);
  }
}

function ignore(): void {}

/** Reads a trusted peer's header in flowing mode, chunk by chunk, until the parser decides or time is up. */
function readHeader(socket: Socket, peer: ClientAddress, timeoutMs: number): Promise<ProxyHeaderOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let needed = 1;

    const finish = (outcome: ProxyHeaderOutcome): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      socket.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < needed) {
        return; // the parser has said it needs more than this: no parse per byte of a long v2 header
      }
      const received = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
      chunks.splice(0, chunks.length, received);
      const result = parseProxyHeader(received);
      switch (result.status) {
        case 'incomplete':
          needed = result.needed;
          return;
        case 'absent':
          return finish({ ok: false, failure: 'NO_HEADER', reason: `trusted proxy ${describe(peer)}: ${result.reason}` });
        case 'invalid':
          return finish({ ok: false, failure: 'INVALID_HEADER', reason: `trusted proxy ${describe(peer)}: ${result.reason}` });
        case 'complete': {
          // Paused and unhooked before the bytes go back: nothing else reads them until the door resumes.
          finish(
            result.client === null
              ? { ok: true, client: peer, via: 'local' }
              : { ok: true, client: remembered(socket, result.client), via: 'header' },
          );
          if (received.length > result.headerLength) {
            socket.unshift(received.subarray(result.headerLength));
          }
          return;
        }
      }
    };
    const closedEarly = (how: string): void =>
      finish({
        ok: false,
        failure: 'CLOSED',
        reason: `trusted proxy ${describe(peer)} ${how} after ${length} bytes, before a complete header`,
      });
    const onEnd = (): void => closedEarly('ended its side');
    const onClose = (): void => closedEarly('closed');
    const onError = (error: Error): void => closedEarly(`failed (${error.message})`);
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          failure: 'HEADER_TIMEOUT',
          reason: `trusted proxy ${describe(peer)}: no complete header within ${timeoutMs} ms (${length} bytes received)`,
        }),
      timeoutMs,
    );
    timer.unref();

    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.on('data', onData);
    socket.resume();
  });
}

function remembered(socket: Socket, client: ClientAddress): ClientAddress {
  rememberClientAddress(socket, client);
  return client;
}

function describe(peer: ClientAddress): string {
  return formatPeer({ remoteAddress: peer.address, remotePort: peer.port });
}

/** The doors' reader from PROXY_PROTOCOL's companion setting, TRUSTED_PROXIES. */
export function proxyHeaderReaderOf(environment: Pick<EchoServerEnvironment, 'TRUSTED_PROXIES'>): ProxyHeaderReader {
  return new ProxyHeaderReader({ trustedProxies: TrustedProxies.from(environment.TRUSTED_PROXIES) });
}
