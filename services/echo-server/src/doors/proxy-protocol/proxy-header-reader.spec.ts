import { formatPeer } from '@echo-pair/common';
import fc from 'fast-check';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { clientAddressOf, formatClientPeer } from './client-address';
import { DEFAULT_HEADER_TIMEOUT_MS, ProxyHeaderReader } from './proxy-header-reader';
import { inet6Block, inetBlock, tlv, v1Header, v2Header } from './testing/proxy-header-bytes';
import { LoopbackDoor, type DoorConnection } from './testing/loopback-door';
import { TrustedProxies } from '../../config/trusted-proxies';

const LOOPBACK_TRUSTED = TrustedProxies.from('127.0.0.1,::1');
const HEADER = v1Header('TCP4', '203.0.113.7', '127.0.0.1', 5555, 3001);
const PAYLOAD = Buffer.from('hello\nsecond line\n');

describe('ProxyHeaderReader on a real loopback server', () => {
  let door: LoopbackDoor | undefined;

  afterEach(async () => {
    await door?.close();
    door = undefined;
  });

  async function startDoor(trusted = LOOPBACK_TRUSTED, headerTimeoutMs?: number, host?: string): Promise<LoopbackDoor> {
    door = await LoopbackDoor.start(new ProxyHeaderReader({ trustedProxies: trusted, headerTimeoutMs }), { host });
    return door;
  }

  /** The client sends, ends; the door's connection once its peer's bytes have all arrived. */
  async function served(bytes: Buffer, splitAt: number[] = []): Promise<{ connection: DoorConnection; payload: Buffer }> {
    const client = await door!.connect();
    const pieces = [0, ...splitAt, bytes.length].slice(1).map((end, index, ends) => bytes.subarray(index === 0 ? 0 : ends[index - 1], end));
    for (const piece of pieces) {
      await door!.writeApart(client, piece);
    }
    client.end();
    const connection = await door!.nextConnection();
    return { connection, payload: await connection.payload };
  }

  it('strips a header that arrives in the same chunk as the first payload bytes, and delivers the payload intact', async () => {
    await startDoor();
    const { connection, payload } = await served(Buffer.concat([HEADER, PAYLOAD]));
    expect(connection.headerChunks.map((chunk) => chunk.length)).toEqual([HEADER.length + PAYLOAD.length]);
    expect(connection.outcome).toEqual({ ok: true, via: 'header', client: { address: '203.0.113.7', port: 5555, family: 'IPv4' } });
    expect(payload.toString()).toBe(PAYLOAD.toString());
  });

  it('reads a header that arrives in separate chunks, then a payload in chunks of its own', async () => {
    await startDoor();
    const bytes = Buffer.concat([HEADER, PAYLOAD]);
    const { connection, payload } = await served(bytes, [5, 20, HEADER.length, HEADER.length + 3]);
    expect(connection.headerChunks.map((chunk) => chunk.length)).toEqual([5, 15, HEADER.length - 20]);
    expect(connection.outcome).toMatchObject({ ok: true, via: 'header' });
    expect(payload).toEqual(PAYLOAD);
  });

  it('reads a header delivered one byte per chunk, and a header split inside its CRLF', async () => {
    await startDoor();
    const bytes = Buffer.concat([HEADER, PAYLOAD]);
    const byteByByte = await served(
      bytes,
      Array.from({ length: HEADER.length + 2 }, (_, index) => index + 1),
    );
    expect(byteByByte.connection.headerChunks).toHaveLength(HEADER.length);
    expect(byteByByte.payload).toEqual(PAYLOAD);
    const atCr = await served(bytes, [HEADER.length - 1]);
    expect(atCr.connection.headerChunks.map((chunk) => chunk.length)).toEqual([HEADER.length - 1, 1 + PAYLOAD.length]);
    expect(atCr.payload).toEqual(PAYLOAD);
  });

  it('delivers any payload after any valid header intact and in order, however the bytes are chunked (property, real sockets)', async () => {
    await startDoor();
    const port = fc.integer({ min: 0, max: 65_535 });
    const headers = fc.oneof(
      fc.tuple(fc.ipV4(), port).map(([address, sourcePort]) => v1Header('TCP4', address, '127.0.0.1', sourcePort, 3001)),
      fc.tuple(fc.ipV6(), port).map(([address, sourcePort]) => v1Header('TCP6', address, '::1', sourcePort, 3001)),
      fc.constant(Buffer.from('PROXY UNKNOWN\r\n')),
      fc
        .uint8Array({ maxLength: 64 })
        .map((tlvs) => v2Header({ familyTransport: 0x21, body: Buffer.concat([inet6Block('2001:db8::9', '::1', 4242, 3001), tlvs]) })),
      fc.constant(v2Header({ versionCommand: 0x20, familyTransport: 0x00 })),
    );
    // Cut points, each written apart (a chunk of its own) or not (may merge with the next write).
    const cuts = fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(headers, fc.uint8Array({ minLength: 1, maxLength: 3_000 }), cuts, async (header, payloadBytes, cutPoints) => {
        const bytes = Buffer.concat([header, payloadBytes]);
        const ends = [...new Set(cutPoints.map(([where]) => Math.floor(where * bytes.length)))].sort((a, b) => a - b);
        const client = await door!.connect();
        let start = 0;
        for (const [index, end] of [...ends, bytes.length].entries()) {
          const piece = bytes.subarray(start, end);
          start = end;
          if (cutPoints[index]?.[1] ?? true) {
            await door!.writeApart(client, piece);
          } else {
            client.write(piece);
          }
        }
        client.end();
        const connection = await door!.nextConnection();
        expect(connection.outcome.ok).toBe(true);
        expect(await connection.payload).toEqual(Buffer.from(payloadBytes));
      }),
      { numRuns: 40 },
    );
  }, 30_000);

  it('records the client a header names for clientAddressOf and formatClientPeer (IPv6 in brackets)', async () => {
    await startDoor();
    const header = v2Header({
      familyTransport: 0x21,
      body: Buffer.concat([inet6Block('2001:db8::1', '::1', 443, 3001), tlv(0x05, Buffer.from('id'))]),
    });
    const { connection, payload } = await served(Buffer.concat([header, PAYLOAD]));
    expect(connection.outcome).toEqual({ ok: true, via: 'header', client: { address: '2001:db8::1', port: 443, family: 'IPv6' } });
    expect(clientAddressOf(connection.socket)).toEqual({ address: '2001:db8::1', port: 443, family: 'IPv6' });
    expect(formatClientPeer(connection.socket)).toBe('[2001:db8::1]:443');
    expect(payload).toEqual(PAYLOAD);
  });

  it.each([
    ['v2 LOCAL (a health check)', v2Header({ versionCommand: 0x20, familyTransport: 0x00 })],
    ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n')],
    ['v2 PROXY over AF_UNIX', v2Header({ familyTransport: 0x31, body: Buffer.alloc(216) })],
  ])('serves %s with the socket’s own peer', async (_case, header) => {
    await startDoor();
    const { connection, payload } = await served(Buffer.concat([header, PAYLOAD]));
    expect(connection.outcome).toEqual({ ok: true, via: 'local', client: clientAddressOf(connection.socket) });
    expect(connection.outcome).toMatchObject({ client: { address: '127.0.0.1', family: 'IPv4' } });
    expect(formatClientPeer(connection.socket)).toBe(formatPeer(connection.socket));
    expect(payload).toEqual(PAYLOAD);
  });

  it('serves a peer that is not trusted as a direct client: its header is not parsed but handed to the door as data', async () => {
    await startDoor(TrustedProxies.from('192.0.2.1,10.0.0.0/8'));
    const bytes = Buffer.concat([HEADER, PAYLOAD]);
    const { connection, payload } = await served(bytes, [10]);
    expect(connection.outcome).toMatchObject({ ok: true, via: 'direct', client: { address: '127.0.0.1', family: 'IPv4' } });
    expect(connection.headerChunks).toEqual([]);
    expect(clientAddressOf(connection.socket)?.address).toBe('127.0.0.1');
    expect(formatClientPeer(connection.socket)).toBe(formatPeer(connection.socket));
    expect(payload).toEqual(bytes);
  });

  it('serves everyone directly with no trusted proxy at all', async () => {
    await startDoor(TrustedProxies.NONE);
    const { connection, payload } = await served(PAYLOAD);
    expect(connection.outcome).toMatchObject({ ok: true, via: 'direct' });
    expect(payload).toEqual(PAYLOAD);
  });

  it('trusts a dual-stack listener’s IPv4-mapped peer (::ffff:127.0.0.1) by its IPv4 entry', async () => {
    await startDoor(TrustedProxies.from('127.0.0.1'), undefined, '::');
    const { connection, payload } = await served(Buffer.concat([HEADER, PAYLOAD]));
    expect(connection.socket.remoteAddress).toBe('::ffff:127.0.0.1');
    expect(connection.outcome).toMatchObject({ ok: true, via: 'header', client: { address: '203.0.113.7' } });
    expect(payload).toEqual(PAYLOAD);
  });

  it('leaves the socket paused: a data listener alone receives nothing until resume()', async () => {
    door = await LoopbackDoor.start(new ProxyHeaderReader({ trustedProxies: LOOPBACK_TRUSTED }), { skipResume: true });
    const client = await door.connect();
    await door.writeApart(client, Buffer.concat([HEADER, PAYLOAD]));
    const connection = await door.nextConnection();
    const late: Buffer[] = [];
    connection.socket.on('data', (chunk: Buffer) => late.push(chunk));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([connection.socket.isPaused(), connection.socket.readableFlowing, late]).toEqual([true, false, []]);
    connection.socket.resume();
    await once(connection.socket, 'data');
    expect(Buffer.concat(late)).toEqual(PAYLOAD);
  });

  it('still ends the door’s side when the proxy sends a header and closes', async () => {
    await startDoor();
    const { connection, payload } = await served(HEADER);
    expect(connection.outcome).toMatchObject({ ok: true, via: 'header' });
    expect(payload).toEqual(Buffer.alloc(0));
  });
});

describe('ProxyHeaderReader refusals', () => {
  let door: LoopbackDoor | undefined;

  afterEach(async () => {
    await door?.close();
    door = undefined;
  });

  /** Sends (and maybe ends), then the outcome and whether the door closed the client. */
  async function refused(bytes: Buffer, options: { end?: boolean; headerTimeoutMs?: number; trusted?: TrustedProxies } = {}) {
    const reader = new ProxyHeaderReader({ trustedProxies: options.trusted ?? LOOPBACK_TRUSTED, headerTimeoutMs: options.headerTimeoutMs });
    door = await LoopbackDoor.start(reader);
    const client = await door.connect();
    const closed = once(client, 'close');
    if (bytes.length > 0) {
      await door.writeApart(client, bytes);
    }
    if (options.end === true) {
      client.end();
    }
    const startedAt = Date.now();
    const connection = await door.nextConnection();
    await closed;
    return { outcome: connection.outcome, waitedMs: Date.now() - startedAt };
  }

  it('refuses a trusted proxy’s connection that does not begin with a header, at its first byte', async () => {
    const { outcome } = await refused(Buffer.from('hello\n'));
    expect(outcome).toEqual({
      ok: false,
      failure: 'NO_HEADER',
      reason: expect.stringMatching(
        /^trusted proxy 127\.0\.0\.1:\d+: the connection did not begin with a PROXY protocol header$/,
      ) as string,
    });
  });

  it.each([
    ['a v1 port out of range', v1Header('TCP4', '203.0.113.7', '127.0.0.1', 70_000, 3001), /invalid source port: "70000"/],
    ['a v1 line with a bare LF', Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 5555 3001\nhello\n'), /bare LF/],
    ['a v1 line past 107 bytes', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(120)}`), /no CRLF within 107 bytes/],
    ['a v2 UDP header', v2Header({ familyTransport: 0x12, body: inetBlock('1.2.3.4', '5.6.7.8', 1, 2) }), /datagram/],
    ['a v2 length short of its block', v2Header({ familyTransport: 0x21, body: Buffer.alloc(20) }), /length 20/],
  ])('refuses %s as an invalid header', async (_case, bytes, reason) => {
    const { outcome } = await refused(bytes);
    expect(outcome).toMatchObject({ ok: false, failure: 'INVALID_HEADER', reason: expect.stringMatching(reason) as string });
  });

  it('refuses a header that is not complete within headerTimeoutMs, and one that never starts', async () => {
    const partial = await refused(Buffer.from('PROXY TCP4 203.0'), { headerTimeoutMs: 150 });
    expect(partial.outcome).toMatchObject({ ok: false, failure: 'HEADER_TIMEOUT' });
    expect(partial.outcome).toMatchObject({
      reason: expect.stringMatching(/no complete header within 150 ms \(16 bytes received\)$/) as string,
    });
    expect(partial.waitedMs).toBeGreaterThanOrEqual(100);
    expect(partial.waitedMs).toBeLessThan(2_000);
    await door?.close();
    const silent = await refused(Buffer.alloc(0), { headerTimeoutMs: 150 });
    expect(silent.outcome).toMatchObject({
      ok: false,
      failure: 'HEADER_TIMEOUT',
      reason: expect.stringMatching(/\(0 bytes received\)$/) as string,
    });
  });

  it('refuses a peer that ends its side before its header is complete', async () => {
    const { outcome } = await refused(Buffer.from('PROXY TCP4 203.0.113.7'), { end: true });
    expect(outcome).toMatchObject({
      ok: false,
      failure: 'CLOSED',
      reason: expect.stringMatching(/ended its side after 22 bytes/) as string,
    });
  });

  it('refuses a peer that resets the connection before its header is complete', async () => {
    door = await LoopbackDoor.start(new ProxyHeaderReader({ trustedProxies: LOOPBACK_TRUSTED }));
    const client = await door.connect();
    await door.writeApart(client, Buffer.from('\r\n\r\n\0\r\n'));
    client.resetAndDestroy();
    const connection = await door.nextConnection();
    expect(connection.outcome).toMatchObject({ ok: false, failure: 'CLOSED' });
  });

  it('waits 5 s by default, and takes no timeout that is not a positive integer', () => {
    expect(DEFAULT_HEADER_TIMEOUT_MS).toBe(5_000);
    for (const headerTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => new ProxyHeaderReader({ trustedProxies: LOOPBACK_TRUSTED, headerTimeoutMs })).toThrow(RangeError);
    }
  });

  it('answers CLOSED for a socket with no peer, and refuses one already decoding text', async () => {
    const reader = new ProxyHeaderReader({ trustedProxies: LOOPBACK_TRUSTED });
    await expect(reader.read(new Socket())).resolves.toMatchObject({ ok: false, failure: 'CLOSED' });
    const decoding = new Socket();
    decoding.setEncoding('utf8');
    expect(() => reader.read(decoding)).toThrow(TypeError);
  });
});
