import { formatPeer } from '@echo-pair/common';
import type { Socket } from 'node:net';

/** Who is at the other end of a connection: the socket's peer, or the client a trusted proxy named. */
export interface ClientAddress {
  /** As Node writes `remoteAddress`: `203.0.113.7`, `2001:db8::1`, `::ffff:203.0.113.7`. */
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** The addresses read from PROXY headers; weak, so a closed socket takes its entry with it. */
const proxiedClients = new WeakMap<Socket, ClientAddress>();

/** Records the client a trusted proxy's header named for this socket (ProxyHeaderReader does it). */
export function rememberClientAddress(socket: Socket, client: ClientAddress): void {
  proxiedClients.set(socket, client);
}

/** The client address a PROXY header gave this socket, if one did. */
export function proxiedClientOf(socket: Socket): ClientAddress | undefined {
  return proxiedClients.get(socket);
}

/** The socket's own peer; undefined once the socket has no peer (destroyed before it was asked). */
export function socketAddressOf(socket: Socket): ClientAddress | undefined {
  const { remoteAddress: address, remotePort: port, remoteFamily: family } = socket;
  if (address === undefined || port === undefined || (family !== 'IPv4' && family !== 'IPv6')) {
    return undefined;
  }
  return { address, port, family };
}

/**
 * The client of a connection: the address a trusted proxy's PROXY header named, else the socket's
 * own peer (a direct client, an untrusted peer, a proxy's LOCAL connection, PROXY_PROTOCOL off).
 */
export function clientAddressOf(socket: Socket): ClientAddress | undefined {
  return proxiedClients.get(socket) ?? socketAddressOf(socket);
}

/** `203.0.113.7:5555` or `[2001:db8::1]:5555`: `formatPeer` of the client of `clientAddressOf`. */
export function formatClientPeer(socket: Socket): string {
  const proxied = proxiedClients.get(socket);
  return formatPeer(proxied === undefined ? socket : { remoteAddress: proxied.address, remotePort: proxied.port });
}
