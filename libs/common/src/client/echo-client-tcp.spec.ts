import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { lastValueFrom } from 'rxjs';
import { createServer, Socket, type Server } from 'node:net';
import { startTracing } from '../operations/tracing/start-tracing';
import { activeTracer } from '../operations/tracing/tracing-state';
import { FrameDecoder } from '../transport/frame-decoder';
import { framedJsonSocket } from '../transport/framed-json-socket';
import { EchoClientTcp } from './echo-client-tcp';

interface Request {
  id: string;
  pattern: string;
  data: { text: string };
  metadata?: Record<string, string>;
}

/** A loopback peer in stock framing: answers `echo`, fails `boom`, never answers `never`, and can drop its connections. */
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

describe('EchoClientTcp', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let client: EchoClientTcp;

  beforeEach(async () => {
    peer = await startPeer();
    client = new EchoClientTcp({ host: '127.0.0.1', port: peer.port, socketClass: framedJsonSocket() });
  });

  afterEach(async () => {
    client.close();
    peer.sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('connects on the first request, as stock does, and answers it', async () => {
    await expect(lastValueFrom(client.send('echo', { text: 'first' }))).resolves.toEqual({ text: 'first' });
  });

  it('on an open connection, publishes a request when it is subscribed to, and routes its reply', async () => {
    await client.connect();
    const reply = lastValueFrom(client.send('echo', { text: 'direct' }));

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
      const withKeepAlive = new EchoClientTcp({ host: '127.0.0.1', port: peer.port, keepAliveMs: 5_000 });
      withKeepAlive.createSocket().netSocket.destroy();
      expect(setKeepAlive).toHaveBeenCalledWith(true, 5_000);
      setKeepAlive.mockClear();

      client.createSocket().netSocket.destroy();
      expect(setKeepAlive).not.toHaveBeenCalled();
    } finally {
      setKeepAlive.mockRestore();
    }
  });

  it('sends the metadata its dispatch hook adds, on the direct path and the stock path alike, and none without', async () => {
    client.setOnDispatchHook((packet) => {
      if ((packet.data as { text: string }).text !== 'plain') {
        packet.metadata = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` };
      }
    });

    await lastValueFrom(client.send('echo', { text: 'stock path: connects first' }));
    await lastValueFrom(client.send('echo', { text: 'direct path' }));
    await lastValueFrom(client.send('echo', { text: 'plain' }));

    expect(peer.received.map(({ data, metadata }) => [data.text, metadata])).toEqual([
      ['stock path: connects first', { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }],
      ['direct path', { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` }],
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

  it('leaves a null payload to the stock path, which refuses it', async () => {
    await client.connect();

    await expect(lastValueFrom(client.send('echo', null))).rejects.toThrow();
    expect(peer.received).toHaveLength(0);
  });
});
