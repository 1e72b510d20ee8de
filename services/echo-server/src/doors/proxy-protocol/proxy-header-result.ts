import { SocketAddress } from 'node:net';
import type { ClientAddress } from './client-address';

/**
 * What the bytes received so far make of a PROXY protocol header:
 * - `incomplete`: a valid beginning; wait until at least `needed` bytes have arrived in all;
 * - `complete`: the first `headerLength` bytes are the header (what follows is the door's);
 *   `client` is the address it names, or null when the socket's own peer is to be used
 *   (v1 UNKNOWN, v2 LOCAL, v2 AF_UNSPEC/AF_UNIX or an unspecified transport);
 * - `absent`: the first bytes are not a PROXY header at all (a client speaking straight away);
 * - `invalid`: it began as a header and broke the specification (`reason` says how).
 */
export type ProxyHeaderResult =
  | { status: 'incomplete'; needed: number }
  | { status: 'complete'; version: 1 | 2; headerLength: number; client: ClientAddress | null }
  | { status: 'absent'; reason: string }
  | { status: 'invalid'; reason: string };

export function incomplete(needed: number): ProxyHeaderResult {
  return { status: 'incomplete', needed };
}

export function invalid(reason: string): ProxyHeaderResult {
  return { status: 'invalid', reason };
}

/** `2001:DB8:0:0::1` as Node writes a peer address (`2001:db8::1`, `::ffff:1.2.3.4`), so one client has one key. */
export function canonicalIPv6(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}
