import { V2_SIGNATURE } from '../proxy-header';

/** A v1 header line as a proxy sends it: `PROXY TCP4 203.0.113.7 127.0.0.1 5555 3001\r\n`. */
export function v1Header(protocol: string, source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  return Buffer.from(`PROXY ${protocol} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

export interface V2HeaderFields {
  /** Version and command byte; 0x21 (version 2, PROXY) when omitted. */
  versionCommand?: number;
  /** Family and transport byte: 0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x31 UNIX stream, 0x00 UNSPEC. */
  familyTransport: number;
  /** The address block and TLVs: what follows the 16 fixed bytes. */
  body?: Buffer;
  /** The length field; the body's length when omitted (a test of a lying length sets it). */
  length?: number;
}

/** A v2 header: signature, version and command, family and transport, length, body. */
export function v2Header({ versionCommand = 0x21, familyTransport, body = Buffer.alloc(0), length = body.length }: V2HeaderFields): Buffer {
  const fixed = Buffer.alloc(4);
  fixed.writeUInt8(versionCommand, 0);
  fixed.writeUInt8(familyTransport, 1);
  fixed.writeUInt16BE(length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}

/** The AF_INET block: source and destination addresses, then their ports. */
export function inetBlock(source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([ipv4Bytes(source), ipv4Bytes(destination), ports]);
}

/** The AF_INET6 block, addresses in hexadecimal groups (`2001:db8::1`; no dotted IPv4 tail). */
export function inet6Block(source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([ipv6Bytes(source), ipv6Bytes(destination), ports]);
}

/** One TLV: type, 2-byte length, value. */
export function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), 2 * index));
  return bytes;
}
