import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { lastValueFrom } from 'rxjs';
import { createServer, Socket, type Server } from 'node:net';
import { startTracing } from '../operations/tracing/start-tracing';
import { activeTracer } from '../transport/trace-context/tracing-state';
import { FrameDecoder } from '../transport/frame-decoder';
import { framedJsonSocket } from '../transport/framed-json-socket.factory';
import { InvalidConfigurationError } from '../operations/config/validate-environment';
import { EchoClientTcp } from './echo-client-tcp';

interface Request {
  id: string;
  pattern: string;
  data: { text: string };
  metadata?: Record<string, string>;
}

/** A loopback peer in stock framing: answers `echo`, fails `boom`, never answers `never`, and can drop its connections. */
/**
 * Closes the peer after the client closed: its sockets close on the client's FIN (bounded), so
 * that none is destroyed with the client's bytes unread, which would reset the client's socket
 * and log ECONNRESET into the next test.
 */
async function closePeer(peer: { server: Server; sockets: Socket[] }): Promise<void> {
  const open = peer.sockets.filter((socket) => !socket.destroyed);
  await Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve).setTimeout(500, () => socket.destroy()))));
  await new Promise((resolve) => peer.server.close(resolve));
}

async function startPeer(): Promise<{ server: Server; port: number; sockets: Socket[]; received: Request[] }> {
  const sockets: Socket[] = [];
  const received: Request[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const decoder = new FrameDecoder(1 << 20, 1 << 22);
    const send = (message: unknown): void => {
      const json = JSON.stringify(message);
      socket.write(`${json.length}#${json}`);
    };
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
        const request = JSON.parse(text) as Request;
        received.push(request);
        if (request.pattern === 'echo') {
          send({ id: request.id, response: request.data, isDisposed: true });
        } else if (request.pattern === 'boom') {
          send({ id: request.id, err: { code: 'X' }, isDisposed: true });
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets, received };
}

/** A few turns of the event loop: the stock path publishes after its `connect()` promise. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Every behaviour, with the fast paths and with stock `ClientTCP` (`fastPath: false`, ECHO_FAST_PATH=false) alike. */
describe.each([
  { mode: 'fast path', fastPath: true },
  { mode: 'stock ClientTCP', fastPath: false },
])('EchoClientTcp ($mode)', ({ fastPath }) => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let client: EchoClientTcp;

  beforeEach(async () => {
    peer = await startPeer();
    client = new EchoClientTcp({ host: '127.0.0.1', port: peer.port, socketClass: framedJsonSocket(), fastPath });
  });

  afterEach(async () => {
    client.close();
    await closePeer(peer);
  });

  it('connects on the first request, as stock does, and answers it', async () => {
    await expect(lastValueFrom(client.send('echo', { text: 'first' }))).resolves.toEqual({ text: 'first' });
  });

  it('on an open connection, publishes a request, and routes its reply', async () => {
    await client.connect();
    const reply = lastValueFrom(client.send('echo', { text: 'direct' }));

    await settle();
    expect(client['routingMap'].size).toBe(1);
    await expect(reply).resolves.toEqual({ text: 'direct' });
    expect(client['routingMap'].size).toBe(0);
  });

  it('fails a request with the error the peer replied with', async () => {
    await client.connect();

    await expect(lastValueFrom(client.send('boom', { text: 'x' }))).rejects.toEqual({ code: 'X' });
  });

  it('forgets a request unsubscribed from', async () => {
    await client.connect();
    const subscription = client.send('never', { text: 'x' }).subscribe();
    await settle();
    expect(client['routingMap'].size).toBe(1);

    subscription.unsubscribe();

    expect(client['routingMap'].size).toBe(0);
  });

  it('fails the requests in flight when the connection drops, and reconnects for the next one', async () => {
    await client.connect();
    const inFlight = lastValueFrom(client.send('never', { text: 'x' }));
    await new Promise((resolve) => setTimeout(resolve, 20));

    peer.sockets[0].destroy();

    await expect(inFlight).rejects.toThrow('Connection closed');
    await expect(lastValueFrom(client.send('echo', { text: 'again' }))).resolves.toEqual({ text: 'again' });
    expect(peer.sockets).toHaveLength(2);
  });

  it('on close, sends the frames queued in this tick before the FIN, without writing after the end', async () => {
    await client.connect();
    const errors: unknown[] = [];
    client.unwrap<Socket>().on('error', (error) => errors.push(error));
    client.send('never', { text: 'last words' }).subscribe({ error: () => undefined });
    await settle();

    client.close();

    const peerSocket = peer.sockets[0];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the peer saw no FIN within 2 s')), 2_000);
      peerSocket.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      peerSocket.resume();
    });
    expect(peer.received.map((request) => request.data.text)).toEqual(['last words']);
    expect(errors).toEqual([]);
  });

  it('turns TCP keepalive on for its sockets when keepAliveMs is set', () => {
    const setKeepAlive = jest.spyOn(Socket.prototype, 'setKeepAlive');
    try {
      const withKeepAlive = new EchoClientTcp({ host: '127.0.0.1', port: peer.port, keepAliveMs: 5_000, fastPath });
      withKeepAlive.createSocket().netSocket.destroy();
      expect(setKeepAlive).toHaveBeenCalledWith(true, 5_000);
      setKeepAlive.mockClear();

      client.createSocket().netSocket.destroy();
      expect(setKeepAlive).not.toHaveBeenCalled();
    } finally {
      setKeepAlive.mockRestore();
    }
  });

  it('sends the metadata its dispatch hook adds, on a new connection and an open one alike, and none without', async () => {
    client.setOnDispatchHook((packet) => {
      if ((packet.data as { text: string }).text !== 'plain') {
        packet.metadata = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` };
      }
    });

    await lastValueFrom(client.send('echo', { text: 'connects first' }));
    await lastValueFrom(client.send('echo', { text: 'open connection' }));
    await lastValueFrom(client.send('echo', { text: 'plain' }));

    expect(peer.received.map(({ data, metadata }) => [data.text, metadata])).toEqual([
      ['connects first', { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }],
      ['open connection', { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }],
      ['plain', undefined],
    ]);
    expect(Object.keys(peer.received[2])).toEqual(['pattern', 'data', 'id']);
  });

  it('with tracing on, opens its socket outside the context of the call that opened it', async () => {
    const tracing = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} });
    try {
      const call = activeTracer()!.startSpan('call');
      await context.with(trace.setSpan(context.active(), call), () => lastValueFrom(client.send('echo', { text: 'opens it' })));
      call.end();
      const socket = client.unwrap<Socket>();
      const activeOnClose = new Promise((resolve) => socket.once('close', () => resolve(trace.getActiveSpan())));

      peer.sockets[0].destroy();

      // The socket's events (a drop here; replies, reconnects) belong to no call.
      await expect(activeOnClose).resolves.toBeUndefined();
    } finally {
      await tracing.shutdown();
    }
  });

  it('refuses a null payload, as stock does', async () => {
    await client.connect();

    await expect(lastValueFrom(client.send('echo', null))).rejects.toThrow();
    expect(peer.received).toHaveLength(0);
  });
});

/** `run` with ECHO_FAST_PATH set to `value` (unset if undefined), then as it was. */
function withFastPathVariable<T>(value: string | undefined, run: () => T): T {
  const before = process.env.ECHO_FAST_PATH;
  const set = (to: string | undefined) => (to === undefined ? delete process.env.ECHO_FAST_PATH : (process.env.ECHO_FAST_PATH = to));
  set(value);
  try {
    return run();
  } finally {
    set(before);
  }
}

/** What differs between the two: when a request on an open connection is published, and how the path is chosen. */
describe('EchoClientTcp, the path chosen', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  const clients: EchoClientTcp[] = [];

  function clientWith(fastPath?: boolean): EchoClientTcp {
    const client = new EchoClientTcp({ host: '127.0.0.1', port: peer.port, socketClass: framedJsonSocket(), fastPath });
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    peer = await startPeer();
  });

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await closePeer(peer);
  });

  it('with the fast path, publishes a request on an open connection as it is subscribed to', async () => {
    const client = clientWith(true);
    await client.connect();
    const reply = lastValueFrom(client.send('echo', { text: 'at once' }));

    expect(client['routingMap'].size).toBe(1);
    await expect(reply).resolves.toEqual({ text: 'at once' });
  });

  it("with the stock path, publishes it after stock send's connect() promise, as ClientTCP does", async () => {
    const client = clientWith(false);
    await client.connect();
    const reply = lastValueFrom(client.send('echo', { text: 'later' }));

    expect(client['routingMap'].size).toBe(0);
    await settle();
    expect(client['routingMap'].size).toBe(1);
    await expect(reply).resolves.toEqual({ text: 'later' });
  });

  it.each([
    { value: undefined, routedAtOnce: true },
    { value: 'true', routedAtOnce: true },
    { value: 'false', routedAtOnce: false },
  ])('without the option, reads ECHO_FAST_PATH=$value from the environment', async ({ value, routedAtOnce }) => {
    const client = withFastPathVariable(value, () => clientWith());
    await client.connect();
    const reply = lastValueFrom(client.send('echo', { text: 'env' }));

    expect(client['routingMap'].size).toBe(routedAtOnce ? 1 : 0);
    await expect(reply).resolves.toEqual({ text: 'env' });
  });

  it('refuses an ECHO_FAST_PATH that is neither true nor false, instead of taking it as true', () => {
    withFastPathVariable('yes', () => {
      expect(() => clientWith()).toThrow(InvalidConfigurationError);
      expect(() => clientWith(false)).not.toThrow();
    });
  });
});
