import { isIPv4, isIPv6 } from 'node:net';
import type { ClientAddress } from './client-address';
import { canonicalIPv6, incomplete, invalid, type ProxyHeaderResult } from './proxy-header-result';

/** The longest v1 line the specification allows, CRLF included (`PROXY UNKNOWN` with two full IPv6 addresses). */
export const V1_MAX_LENGTH = 107;

const CR = 0x0d;
const LF = 0x0a;
/** A decimal port without heading zeroes (the specification forbids them: octal confusion). */
const PORT = /^(0|[1-9][0-9]{0,4})$/;

/**
 * Version 1, `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`, from bytes that begin with `PROXY `.
 * Strict, as the specification asks: printable US-ASCII only, single spaces, CRLF within 107 bytes
 * (a lone CR or LF is invalid), addresses of the announced family (IPv4 without heading zeroes),
 * ports 0..65535 without heading zeroes. After UNKNOWN anything printable may come before the CRLF.
 */
export function parseV1(bytes: Buffer): ProxyHeaderResult {
  const scanned = Math.min(bytes.length, V1_MAX_LENGTH);
  for (let index = 0; index < scanned; index++) {
    const byte = bytes[index];
    if (byte === CR) {
      if (index + 2 > V1_MAX_LENGTH) {
        return invalid(`v1 header longer than ${V1_MAX_LENGTH} bytes`);
      }
      if (index + 1 === bytes.length) {
        return incomplete(index + 2);
      }
      if (bytes[index + 1] !== LF) {
        return invalid('v1 header has a CR not followed by LF');
      }
      return parseLine(bytes.toString('latin1', 0, index), index + 2);
    }
    if (byte === LF) {
      return invalid('v1 header ends with a bare LF (CRLF expected)');
    }
    if (byte < 0x20 || byte > 0x7e) {
      return invalid(`v1 header has a byte that is not printable US-ASCII (0x${byte.toString(16).padStart(2, '0')})`);
    }
  }
  return bytes.length >= V1_MAX_LENGTH ? invalid(`v1 header has no CRLF within ${V1_MAX_LENGTH} bytes`) : incomplete(bytes.length + 1);
}

function parseLine(line: string, headerLength: number): ProxyHeaderResult {
  const fields = line.split(' ');
  const protocol = fields[1];
  if (protocol === 'UNKNOWN') {
    return { status: 'complete', version: 1, headerLength, client: null };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    return invalid(`v1 header names protocol ${JSON.stringify(protocol)} (TCP4, TCP6 or UNKNOWN expected)`);
  }
  if (fields.length !== 6) {
    return invalid(`v1 ${protocol} header has ${fields.length - 2} fields after the protocol, separated by single spaces (4 expected)`);
  }
  const [, , source, destination, sourcePort, destinationPort] = fields;
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  for (const [name, address] of [
    ['source', source],
    ['destination', destination],
  ]) {
    if (!isAddressOf(family, address)) {
      return invalid(`v1 ${protocol} header has a ${name} address that is not ${family}: ${JSON.stringify(address)}`);
    }
  }
  for (const [name, port] of [
    ['source', sourcePort],
    ['destination', destinationPort],
  ]) {
    if (!PORT.test(port) || Number(port) > 65_535) {
      return invalid(`v1 header has an invalid ${name} port: ${JSON.stringify(port)} (0 to 65535, no heading zeroes)`);
    }
  }
  const client: ClientAddress = { address: family === 'IPv6' ? canonicalIPv6(source) : source, port: Number(sourcePort), family };
  return { status: 'complete', version: 1, headerLength, client };
}

/** Node's syntax checks; IPv6 zone indexes (`fe80::1%eth0`), which Node accepts, are no proxied client's. */
function isAddressOf(family: 'IPv4' | 'IPv6', address: string): boolean {
  return family === 'IPv4' ? isIPv4(address) : isIPv6(address) && !address.includes('%');
}
