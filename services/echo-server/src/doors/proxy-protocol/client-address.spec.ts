import { formatPeer } from '@echo-pair/common';
import { once } from 'node:events';
import { connect, createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { clientAddressOf, formatClientPeer, proxiedClientOf, rememberClientAddress, socketAddressOf } from './client-address';

/** A connected pair on loopback: the server's end (whose peer is the client) and the client. */
async function loopbackPair(host: string): Promise<{ accepted: Socket; client: Socket; server: Server }> {
  const server = createServer().listen(0, host);
  await once(server, 'listening');
  const accepting = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ host, port: (server.address() as AddressInfo).port });
  const [[accepted]] = await Promise.all([accepting, once(client, 'connect')]);
  return { accepted, client, server };
}

describe('client address registry', () => {
  const opened: { accepted: Socket; client: Socket; server: Server }[] = [];

  afterEach(async () => {
    for (const { accepted, client, server } of opened.splice(0)) {
      accepted.destroy();
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['127.0.0.1', 'IPv4', /^127\.0\.0\.1:\d+$/],
    ['::1', 'IPv6', /^\[::1\]:\d+$/],
  ])('answers a %s socket’s own peer when no header named a client, as formatPeer writes it', async (host, family, written) => {
    const pair = await loopbackPair(host);
    opened.push(pair);
    expect(clientAddressOf(pair.accepted)).toEqual({ address: host, port: pair.client.localPort, family });
    expect(proxiedClientOf(pair.accepted)).toBeUndefined();
    expect(formatClientPeer(pair.accepted)).toMatch(written);
    expect(formatClientPeer(pair.accepted)).toBe(formatPeer(pair.accepted));
  });

  it.each([
    [{ address: '203.0.113.7', port: 5555, family: 'IPv4' as const }, '203.0.113.7:5555'],
    [{ address: '2001:db8::1', port: 443, family: 'IPv6' as const }, '[2001:db8::1]:443'],
    [{ address: '::ffff:203.0.113.7', port: 0, family: 'IPv6' as const }, '[::ffff:203.0.113.7]:0'],
  ])('answers the client a header named, for this socket only: %j', async (client, written) => {
    const pair = await loopbackPair('127.0.0.1');
    const other = await loopbackPair('127.0.0.1');
    opened.push(pair, other);
    rememberClientAddress(pair.accepted, client);
    expect([clientAddressOf(pair.accepted), proxiedClientOf(pair.accepted), formatClientPeer(pair.accepted)]).toEqual([
      client,
      client,
      written,
    ]);
    expect(clientAddressOf(other.accepted)?.address).toBe('127.0.0.1');
    expect(formatClientPeer(other.accepted)).toBe(formatPeer(other.accepted));
  });

  it('has no address for a socket that never had a peer, and writes it as formatPeer does', () => {
    const socket = new Socket();
    expect([socketAddressOf(socket), clientAddressOf(socket)]).toEqual([undefined, undefined]);
    expect(formatClientPeer(socket)).toBe('unknown:undefined');
    expect(formatClientPeer(socket)).toBe(formatPeer(socket));
  });
});
