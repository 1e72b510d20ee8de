import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { destroyUnlessClosed } from './destroy-unless-closed';

describe('destroyUnlessClosed', () => {
  let server: Server;
  const peers: Socket[] = [];

  beforeEach(async () => {
    // Half-open allowed: the peer keeps its side open after our FIN until the test ends it.
    server = createServer({ allowHalfOpen: true }, (socket) => peers.push(socket)).listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    peers.splice(0).forEach((peer) => peer.destroy());
    server.close();
    await once(server, 'close');
  });

  async function endedConnection(): Promise<{ socket: Socket; peer: () => Socket }> {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.end();
    return { socket, peer: () => peers[peers.length - 1] };
  }

  it('resolves false once a peer that closes its side has done so', async () => {
    const { socket, peer } = await endedConnection();
    await new Promise((resolve) => setImmediate(resolve));
    peer().end();
    await expect(destroyUnlessClosed(socket, 5_000)).resolves.toBe(false);
    expect(socket.destroyed).toBe(true);
  });

  it('destroys the socket of a peer that never closes its side after the grace period', async () => {
    const { socket } = await endedConnection();
    await expect(destroyUnlessClosed(socket, 50)).resolves.toBe(true);
    expect(socket.destroyed).toBe(true);
  });
});
