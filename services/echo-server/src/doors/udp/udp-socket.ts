import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

/** The UDP door's socket; with `fastPath`, replies skip dgram's DNS lookup of their (literal) address. */
export function createUdpSocket(type: 'udp4' | 'udp6', fastPath: boolean): Socket {
  return createSocket(fastPath ? { type, lookup: literalAddressLookup } : { type });
}

/**
 * dgram's address lookup for the replies: a sender's address is an IP literal already, so it is
 * passed on at once, where `dns.lookup` answers the same address a tick later (a `process.nextTick`
 * and its closures per reply). Anything else goes to `dns.lookup`.
 */
export function literalAddressLookup(
  address: string,
  options: LookupOneOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family === 0) {
    dnsLookup(address, options, callback);
    return;
  }
  callback(null, address, family);
}
