import fc from 'fast-check';
import { BlockList } from 'node:net';
import { parseProxyHeader } from './proxy-header';
import type { ProxyHeaderResult } from './proxy-header-result';
import { V1_MAX_LENGTH } from './proxy-header-v1';
import { inet6Block, inetBlock, tlv, v1Header, v2Header } from './testing/proxy-header-bytes';

const PAYLOAD = Buffer.from('hello\n');
const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Feeds the bytes one at a time, parsing only once `needed` have arrived (as ProxyHeaderReader does); the first decision and when. */
function feedByteByByte(bytes: Buffer): { result: ProxyHeaderResult; at: number; parses: number } {
  let needed = 1;
  let parses = 0;
  for (let length = 1; length <= bytes.length; length++) {
    if (length < needed) {
      continue;
    }
    parses++;
    const result = parseProxyHeader(bytes.subarray(0, length));
    if (result.status !== 'incomplete') {
      return { result, at: length, parses };
    }
    expect(result.needed).toBeGreaterThan(length);
    needed = result.needed;
  }
  return { result: { status: 'incomplete', needed }, at: bytes.length, parses };
}

describe('parseProxyHeader, version 1', () => {
  it('reads a TCP4 header and leaves what follows it to the door', () => {
    const header = v1Header('TCP4', '203.0.113.7', '127.0.0.1', 5555, 3001);
    expect(parseProxyHeader(Buffer.concat([header, PAYLOAD]))).toEqual({
      status: 'complete',
      version: 1,
      headerLength: header.length,
      client: { address: '203.0.113.7', port: 5555, family: 'IPv4' },
    });
  });

  it.each([
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['::ffff:203.0.113.7', '::ffff:203.0.113.7'],
    ['::1', '::1'],
  ])('reads a TCP6 header, writing %s as Node writes a peer (%s)', (source, canonical) => {
    const header = v1Header('TCP6', source, '::1', 65_535, 3001);
    expect(parseProxyHeader(header)).toEqual({
      status: 'complete',
      version: 1,
      headerLength: header.length,
      client: { address: canonical, port: 65_535, family: 'IPv6' },
    });
  });

  it.each([
    ['the short form', 'PROXY UNKNOWN\r\n'],
    ['addresses after it, ignored', 'PROXY UNKNOWN 203.0.113.7 127.0.0.1 5555 3001\r\n'],
    ['anything printable after it', 'PROXY UNKNOWN whatever the sender wrote\r\n'],
  ])('takes UNKNOWN (%s) as "use the socket’s own peer"', (_case, line) => {
    expect(parseProxyHeader(Buffer.concat([ascii(line), PAYLOAD]))).toEqual({
      status: 'complete',
      version: 1,
      headerLength: line.length,
      client: null,
    });
  });

  it('accepts the longest lines the specification allows: 104 bytes for TCP6, 107 for UNKNOWN', () => {
    const full = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const tcp6 = v1Header('TCP6', full, full, 65_535, 65_535);
    const unknown = v1Header('UNKNOWN', full, full, 65_535, 65_535);
    expect([tcp6.length, unknown.length]).toEqual([104, V1_MAX_LENGTH]);
    expect(parseProxyHeader(tcp6)).toMatchObject({ status: 'complete', headerLength: 104 });
    expect(parseProxyHeader(unknown)).toMatchObject({ status: 'complete', headerLength: V1_MAX_LENGTH, client: null });
  });

  it('accepts ports 0 and 65535', () => {
    expect(parseProxyHeader(v1Header('TCP4', '10.0.0.1', '10.0.0.2', 0, 65_535))).toMatchObject({ client: { port: 0 } });
  });

  const ok = 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 3001';
  it.each([
    ['a bare LF', `${ok}\n`, /bare LF/],
    ['a CR not followed by LF', `${ok}\rX`, /CR not followed by LF/],
    ['a CR then CR', `${ok}\r\r\n`, /CR not followed by LF/],
    ['an unknown protocol', 'PROXY TCP5 203.0.113.7 127.0.0.1 5555 3001\r\n', /protocol "TCP5"/],
    ['a lower-case protocol', 'PROXY tcp4 203.0.113.7 127.0.0.1 5555 3001\r\n', /protocol "tcp4"/],
    ['no protocol', 'PROXY \r\n', /protocol ""/],
    ['UNKNOWN run into a word', 'PROXY UNKNOWNX\r\n', /protocol "UNKNOWNX"/],
    ['two spaces', 'PROXY TCP4  203.0.113.7 127.0.0.1 5555 3001\r\n', /fields/],
    ['a missing port', 'PROXY TCP4 203.0.113.7 127.0.0.1 5555\r\n', /3 fields/],
    ['an extra field', `${ok} 1\r\n`, /5 fields/],
    ['a trailing space', `${ok} \r\n`, /5 fields/],
    ['a TCP4 header with IPv6 addresses', 'PROXY TCP4 ::1 ::1 5555 3001\r\n', /source address that is not IPv4/],
    ['a TCP6 header with IPv4 addresses', 'PROXY TCP6 203.0.113.7 127.0.0.1 5555 3001\r\n', /source address that is not IPv6/],
    ['a bad destination', 'PROXY TCP4 203.0.113.7 127.0.0.256 5555 3001\r\n', /destination address/],
    ['an IPv4 number with a heading zero', 'PROXY TCP4 203.0.113.07 127.0.0.1 5555 3001\r\n', /source address/],
    ['three IPv4 numbers', 'PROXY TCP4 203.0.113 127.0.0.1 5555 3001\r\n', /source address/],
    ['an IPv6 zone index', 'PROXY TCP6 fe80::1%eth0 ::1 5555 3001\r\n', /source address that is not IPv6/],
    ['a host name', 'PROXY TCP4 localhost 127.0.0.1 5555 3001\r\n', /source address/],
    ['port 65536', 'PROXY TCP4 203.0.113.7 127.0.0.1 65536 3001\r\n', /source port: "65536"/],
    ['a port with a heading zero', 'PROXY TCP4 203.0.113.7 127.0.0.1 05555 3001\r\n', /source port/],
    ['a signed port', 'PROXY TCP4 203.0.113.7 127.0.0.1 +5555 3001\r\n', /source port/],
    ['a negative port', 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 -1\r\n', /destination port/],
    ['a port in exponent form', 'PROXY TCP4 203.0.113.7 127.0.0.1 5e3 3001\r\n', /source port/],
    ['a six-digit port', 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 100000\r\n', /destination port/],
    ['a tab', 'PROXY TCP4\t203.0.113.7 127.0.0.1 5555 3001\r\n', /not printable.*0x09/],
    ['a NUL byte', 'PROXY UNKNOWN \0\r\n', /not printable.*0x00/],
    ['a byte above US-ASCII', 'PROXY UNKNOWN \xe9\r\n', /not printable.*0xe9/],
  ])('rejects %s', (_case, line, reason) => {
    const result = parseProxyHeader(ascii(line));
    expect(result).toEqual({ status: 'invalid', reason: expect.stringMatching(reason) as string });
  });

  it('rejects a line with no CRLF in its first 107 bytes, and one whose CRLF would end past them', () => {
    const long = ascii(`PROXY UNKNOWN ${'a'.repeat(200)}\r\n`);
    expect(parseProxyHeader(long.subarray(0, V1_MAX_LENGTH))).toEqual({
      status: 'invalid',
      reason: 'v1 header has no CRLF within 107 bytes',
    });
    expect(parseProxyHeader(long)).toEqual({ status: 'invalid', reason: 'v1 header has no CRLF within 107 bytes' });
    const crAt106 = ascii(`PROXY UNKNOWN ${'a'.repeat(106 - 14)}\r\n`);
    expect(crAt106.indexOf('\r')).toBe(106);
    expect(parseProxyHeader(crAt106)).toEqual({ status: 'invalid', reason: 'v1 header longer than 107 bytes' });
  });

  it('waits while a valid beginning has no CRLF yet (at most 107 bytes)', () => {
    expect(parseProxyHeader(ascii('PROXY TCP4 203.0.113.7'))).toEqual({ status: 'incomplete', needed: 23 });
    expect(parseProxyHeader(ascii(`${ok}\r`))).toEqual({ status: 'incomplete', needed: ok.length + 2 });
    expect(parseProxyHeader(ascii(`PROXY UNKNOWN ${'a'.repeat(106 - 14)}`))).toEqual({ status: 'incomplete', needed: 107 });
  });
});

describe('parseProxyHeader, version 2', () => {
  it('reads PROXY over TCP/IPv4', () => {
    const header = v2Header({ familyTransport: 0x11, body: inetBlock('203.0.113.7', '10.0.0.2', 5555, 3001) });
    expect(parseProxyHeader(Buffer.concat([header, PAYLOAD]))).toEqual({
      status: 'complete',
      version: 2,
      headerLength: 16 + 12,
      client: { address: '203.0.113.7', port: 5555, family: 'IPv4' },
    });
  });

  it('reads PROXY over TCP/IPv6, writing the address as Node does', () => {
    const header = v2Header({ familyTransport: 0x21, body: inet6Block('2001:db8:0:0:0:0:0:1', '::1', 443, 3001) });
    expect(parseProxyHeader(Buffer.concat([header, PAYLOAD]))).toEqual({
      status: 'complete',
      version: 2,
      headerLength: 16 + 36,
      client: { address: '2001:db8::1', port: 443, family: 'IPv6' },
    });
    const mapped = v2Header({ familyTransport: 0x21, body: inet6Block('::ffff:cb00:7107', '::1', 443, 3001) });
    expect(parseProxyHeader(mapped)).toMatchObject({ client: { address: '::ffff:203.0.113.7', family: 'IPv6' } });
  });

  it('skips the TLVs after the address block, whatever they hold', () => {
    const tlvs = Buffer.concat([tlv(0x05, Buffer.from('unique-id')), tlv(0xea, Buffer.alloc(40, 0xff)), tlv(0x04, Buffer.alloc(0))]);
    const header = v2Header({ familyTransport: 0x11, body: Buffer.concat([inetBlock('198.51.100.1', '10.0.0.2', 1, 2), tlvs]) });
    expect(parseProxyHeader(Buffer.concat([header, PAYLOAD]))).toMatchObject({
      headerLength: header.length,
      client: { address: '198.51.100.1', port: 1 },
    });
  });

  it.each([
    ['LOCAL with no address (a health check)', { versionCommand: 0x20, familyTransport: 0x00 }],
    ['LOCAL with an AF_INET block, skipped', { versionCommand: 0x20, familyTransport: 0x11, body: inetBlock('1.2.3.4', '5.6.7.8', 1, 2) }],
    ['LOCAL announcing AF_INET with no block (its family is ignored)', { versionCommand: 0x20, familyTransport: 0x11 }],
    ['LOCAL announcing DGRAM (ignored too)', { versionCommand: 0x20, familyTransport: 0x12 }],
    ['PROXY over AF_UNSPEC', { familyTransport: 0x00 }],
    ['PROXY over AF_UNSPEC with bytes it ignores', { familyTransport: 0x00, body: Buffer.alloc(7) }],
    ['PROXY over AF_INET with an unspecified transport', { familyTransport: 0x10, body: inetBlock('1.2.3.4', '5.6.7.8', 1, 2) }],
    ['PROXY over AF_UNIX', { familyTransport: 0x31, body: Buffer.alloc(216, 0x61) }],
  ])('takes %s as "use the socket’s own peer"', (_case, fields) => {
    const header = v2Header(fields);
    expect(parseProxyHeader(Buffer.concat([header, PAYLOAD]))).toEqual({
      status: 'complete',
      version: 2,
      headerLength: header.length,
      client: null,
    });
  });

  it('waits for the whole announced length, up to 65535 bytes of TLVs', () => {
    const header = v2Header({
      familyTransport: 0x11,
      body: Buffer.concat([inetBlock('1.2.3.4', '5.6.7.8', 1, 2), Buffer.alloc(65_535 - 12)]),
    });
    expect(parseProxyHeader(header.subarray(0, 16))).toEqual({ status: 'incomplete', needed: 16 + 65_535 });
    expect(parseProxyHeader(header.subarray(0, header.length - 1))).toEqual({ status: 'incomplete', needed: 16 + 65_535 });
    expect(parseProxyHeader(header)).toMatchObject({ status: 'complete', headerLength: 16 + 65_535 });
  });

  const block = inetBlock('1.2.3.4', '5.6.7.8', 1, 2);
  it.each([
    ['version 1', { versionCommand: 0x11, familyTransport: 0x11, body: block }, /version 1 \(2 expected\)/],
    ['version 3', { versionCommand: 0x31, familyTransport: 0x11, body: block }, /version 3/],
    ['version 0', { versionCommand: 0x01, familyTransport: 0x11, body: block }, /version 0/],
    ['command 0x2', { versionCommand: 0x22, familyTransport: 0x11, body: block }, /command 0x2/],
    ['command 0xf', { versionCommand: 0x2f, familyTransport: 0x11, body: block }, /command 0xf/],
    ['address family 0x4', { familyTransport: 0x41, body: block }, /address family 0x4/],
    ['address family 0xf', { familyTransport: 0xf1, body: block }, /address family 0xf/],
    ['transport 0x3', { familyTransport: 0x13, body: block }, /transport protocol 0x3/],
    ['an AF_INET length of 11', { familyTransport: 0x11, body: block.subarray(0, 11) }, /length 11 .* AF_INET address block \(12 bytes\)/],
    ['an AF_INET length of 0', { familyTransport: 0x11 }, /length 0 .* AF_INET /],
    ['an AF_INET6 length of 35', { familyTransport: 0x21, body: Buffer.alloc(35) }, /length 35 .* AF_INET6 .*36/],
    ['an AF_INET6 length holding an AF_INET block', { familyTransport: 0x21, body: block }, /length 12 .* AF_INET6/],
    ['an AF_UNIX length of 215', { familyTransport: 0x31, body: Buffer.alloc(215) }, /length 215 .* AF_UNIX .*216/],
    ['PROXY over UDP/IPv4', { familyTransport: 0x12, body: block }, /datagram/],
    ['PROXY over UDP/IPv6', { familyTransport: 0x22, body: Buffer.alloc(36) }, /datagram/],
    ['PROXY over a UNIX datagram socket', { familyTransport: 0x32, body: Buffer.alloc(216) }, /datagram/],
  ])('rejects %s', (_case, fields, reason) => {
    expect(parseProxyHeader(v2Header(fields))).toEqual({ status: 'invalid', reason: expect.stringMatching(reason) as string });
  });

  it('rejects a bad version as soon as the 16 fixed bytes are in, without waiting for the length', () => {
    const header = v2Header({ versionCommand: 0x31, familyTransport: 0x11, length: 60_000 });
    expect(parseProxyHeader(header.subarray(0, 16))).toMatchObject({ status: 'invalid' });
  });
});

describe('parseProxyHeader: where a header begins', () => {
  it.each([
    ['a text line', 'hello\n'],
    ['HTTP', 'GET / HTTP/1.1\r\n'],
    ['a near miss of PROXY', 'PROXZ TCP4'],
    ['PROXY in lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['PROXY without its space', 'PROXY\r\n'],
    ['a near miss of the v2 signature', '\r\n\r\n\0\r\nQUIX\n'],
    ['CRLF then text', '\r\nhello'],
    ['a Nest frame', '17#{"pattern":"echo"}'],
  ])('is absent from the first byte that matches no signature: %s', (_case, text) => {
    expect(parseProxyHeader(ascii(text))).toEqual({
      status: 'absent',
      reason: 'the connection did not begin with a PROXY protocol header',
    });
    expect(feedByteByByte(ascii(text)).result.status).toBe('absent');
  });

  it('needs a byte at a time while the bytes match a signature', () => {
    expect(parseProxyHeader(Buffer.alloc(0))).toEqual({ status: 'incomplete', needed: 1 });
    expect(parseProxyHeader(ascii('PRO'))).toEqual({ status: 'incomplete', needed: 4 });
    expect(parseProxyHeader(ascii('\r\n\r\n\0'))).toEqual({ status: 'incomplete', needed: 6 });
    expect(parseProxyHeader(ascii('\r\n\r\n\0\r\nQUIT\n\x21'))).toEqual({ status: 'incomplete', needed: 16 });
  });

  it.each([
    ['v1 TCP4', v1Header('TCP4', '203.0.113.7', '127.0.0.1', 5555, 3001)],
    ['v1 TCP6', v1Header('TCP6', '2001:db8::1', '::1', 5555, 3001)],
    ['v1 UNKNOWN', ascii('PROXY UNKNOWN\r\n')],
    [
      'v2 TCP4 with a TLV',
      v2Header({
        familyTransport: 0x11,
        body: Buffer.concat([inetBlock('1.2.3.4', '5.6.7.8', 1, 2), tlv(0x02, Buffer.from('example.com'))]),
      }),
    ],
    ['v2 TCP6', v2Header({ familyTransport: 0x21, body: inet6Block('2001:db8::7', '::1', 1, 2) })],
    ['v2 LOCAL', v2Header({ versionCommand: 0x20, familyTransport: 0x00 })],
  ])('decides a %s header delivered byte by byte exactly at its last byte', (_case, header) => {
    const whole = parseProxyHeader(header);
    const fed = feedByteByByte(Buffer.concat([header, PAYLOAD]));
    expect(fed).toMatchObject({ result: whole, at: header.length });
    expect(whole).toMatchObject({ status: 'complete', headerLength: header.length });
  });

  it('decides a malformed header fed byte by byte no later than its whole line', () => {
    const fed = feedByteByByte(ascii('PROXY TCP4 203.0.113.7 127.0.0.1 99999 3001\r\nhello\n'));
    expect(fed.result).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/source port/) as string });
    expect(fed.at).toBe('PROXY TCP4 203.0.113.7 127.0.0.1 99999 3001\r\n'.length);
  });
});

describe('parseProxyHeader: properties', () => {
  const port = fc.integer({ min: 0, max: 65_535 });
  /** A valid header, and the client it names as an address a BlockList can compare. */
  const headers = fc.oneof(
    fc.tuple(fc.ipV4(), fc.ipV4(), port, port).map(([source, destination, sourcePort, destinationPort]) => ({
      header: v1Header('TCP4', source, destination, sourcePort, destinationPort),
      address: source,
      family: 'ipv4' as const,
      port: sourcePort,
    })),
    fc.tuple(fc.ipV6(), fc.ipV6(), port, port).map(([source, destination, sourcePort, destinationPort]) => ({
      header: v1Header('TCP6', source, destination, sourcePort, destinationPort),
      address: source,
      family: 'ipv6' as const,
      port: sourcePort,
    })),
    fc.tuple(fc.uint8Array({ minLength: 36, maxLength: 36 }), fc.uint8Array({ maxLength: 300 })).map(([block, tlvs]) => {
      const bytes = Buffer.from(block);
      const groups = Array.from({ length: 8 }, (_, group) => bytes.readUInt16BE(2 * group).toString(16));
      return {
        header: v2Header({ familyTransport: 0x21, body: Buffer.concat([bytes, tlvs]) }),
        address: groups.join(':'),
        family: 'ipv6' as const,
        port: bytes.readUInt16BE(32),
      };
    }),
  );

  it('reads any valid header followed by any payload: the client it names, the header’s exact length, every prefix incomplete', () => {
    fc.assert(
      fc.property(headers, fc.uint8Array({ maxLength: 200 }), ({ header, address, family, port: sourcePort }, payload) => {
        const result = parseProxyHeader(Buffer.concat([header, payload]));
        expect(result).toMatchObject({ status: 'complete', headerLength: header.length, client: { port: sourcePort } });
        const client = result.status === 'complete' ? result.client : null;
        const named = new BlockList();
        named.addAddress(address, family);
        expect(client !== null && named.check(client.address, family)).toBe(true);
        for (let length = 0; length < header.length; length++) {
          expect(parseProxyHeader(header.subarray(0, length)).status).toBe('incomplete');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever the bytes', () => {
    const prefixes = fc.constantFrom(Buffer.alloc(0), ascii('PROXY '), ascii('PROXY TCP4 '), ascii('\r\n\r\n\0\r\nQUIT\n'));
    fc.assert(
      fc.property(prefixes, fc.uint8Array({ maxLength: 300 }), (prefix, rest) => {
        const result = parseProxyHeader(Buffer.concat([prefix, rest]));
        expect(['incomplete', 'complete', 'absent', 'invalid']).toContain(result.status);
      }),
      { numRuns: 1_000 },
    );
  });
});
