import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { WritePacket } from '@nestjs/microservices';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { lastValueFrom, type Subscription } from 'rxjs';
import { UDP_MIN_REQUEST_BYTES } from '../../contract/transports';
import { startTracing } from '../../operations/tracing/start-tracing';
import { activeTracer } from '../../transport/trace-context/tracing-state';
import { EchoClient } from '../echo-client';
import { RpcClientError } from '../rpc-client.error';
import { toRpcClientError } from '../rpc-error-mapper';
import { EchoClientUdp, type EchoClientUdpOptions } from './echo-client-udp';
import { requestDatagramBytes } from '../../transport/udp-datagram';

interface Packet {
  pattern: string;
  data: Record<string, unknown>;
  id?: string;
  metadata?: Record<string, string>;
}

/**
 * A loopback UDP peer: answers `echo` and `hello` with the request's data, `command` with its
 * name, fails `boom`, replies `REPLY_TOO_LARGE` to `huge`, answers `twice` twice, never answers
 * `never`; and drops the first `dropFirst` datagrams it receives (packet loss).
 */
class Peer {
  readonly datagrams: Buffer[] = [];
  dropFirst = 0;
  private readonly socket: Socket = createSocket('udp4');

  static async start(): Promise<Peer> {
    const peer = new Peer();
    await new Promise<void>((resolve) => peer.socket.bind(0, '127.0.0.1', resolve));
    peer.socket.on('message', (datagram, sender) => peer.receive(datagram, sender));
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  packets(): Packet[] {
    return this.datagrams.map((datagram) => JSON.parse(datagram.toString('utf8')) as Packet);
  }

  reply(to: RemoteInfo, message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message), to.port, to.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, sender: RemoteInfo): void {
    this.datagrams.push(datagram);
    if (this.datagrams.length <= this.dropFirst) {
      return;
    }
    const { pattern, data, id } = JSON.parse(datagram.toString('utf8')) as Packet;
    if (id === undefined) {
      return;
    }
    switch (pattern) {
      case 'echo':
      case 'hello':
        this.reply(sender, { id, response: data, isDisposed: true });
        break;
      case 'command':
        this.reply(sender, { id, response: { output: data.name }, isDisposed: true });
        break;
      case 'boom':
        this.reply(sender, { id, err: { code: 'X' }, isDisposed: true });
        break;
      case 'huge':
        this.reply(sender, {
          id,
          err: { code: 'REPLY_TOO_LARGE', message: 'use TCP', details: { replyBytes: 5000, allowedBytes: 3684 } },
          isDisposed: true,
        });
        break;
      case 'twice':
        this.reply(sender, { id, response: 'first', isDisposed: true });
        this.reply(sender, { id, response: 'second', isDisposed: true });
        break;
    }
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds, checking every few milliseconds; fails the test after a second. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 1_000) {
      throw new Error('condition not met within 1 s');
    }
    await delay(5);
  }
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('EchoClientUdp', () => {
  let peer: Peer;
  let client: EchoClientUdp;

  const createClient = (options: Partial<EchoClientUdpOptions> = {}): EchoClientUdp =>
    new EchoClientUdp({ host: '127.0.0.1', port: peer.port, retransmitAfterMs: 20, ...options });

  /** Publishes a request with the raw callback, which sees every reply the client routes. */
  const publish = (pattern: string, data: object): { packets: WritePacket[]; cleanup: () => void } => {
    const packets: WritePacket[] = [];
    const cleanup = client['publish']({ pattern, data }, (packet: WritePacket) => packets.push(packet));
    return { packets, cleanup };
  };

  beforeEach(async () => {
    peer = await Peer.start();
    client = createClient();
  });

  afterEach(async () => {
    client.close();
    await peer.close();
  });

  /** A client that never retransmits within a test: on a loaded machine a reply can take longer than 20 ms. */
  const withoutRetransmission = (): void => {
    client.close();
    client = createClient({ retransmitAfterMs: 60_000 });
  };

  it('sends a request as one JSON datagram and resolves with the reply', async () => {
    withoutRetransmission();
    await expect(lastValueFrom(client.send('echo', { text: 'hi' }))).resolves.toEqual({ text: 'hi' });

    expect(peer.packets()).toEqual([{ pattern: 'echo', data: { text: 'hi' }, id: expect.any(String) as string }]);
  });

  it('pads a small request with spaces to UDP_MIN_REQUEST_BYTES, and leaves a larger one as it is', async () => {
    await lastValueFrom(client.send('echo', { text: 'hi' }));
    await lastValueFrom(client.send('echo', { text: 'x'.repeat(2_000) }));

    const [small, large] = peer.datagrams.map((datagram) => datagram.toString('utf8'));
    expect(Buffer.byteLength(small)).toBe(UDP_MIN_REQUEST_BYTES);
    expect(small).toMatch(/^\{.*\} +$/);
    expect(Object.keys(JSON.parse(small.trimEnd()) as object)).toEqual(['pattern', 'data', 'id']);
    expect(large).toMatch(/\}$/);
    expect(Buffer.byteLength(large)).toBe(requestDatagramBytes('echo', { text: 'x'.repeat(2_000) }));
  });

  it('writes the metadata its dispatch hook adds into requests and events, and no metadata key without', async () => {
    withoutRetransmission();
    const metadata = { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` };
    client.setOnDispatchHook((packet) => {
      if ((packet.data as { text: string }).text !== 'plain') {
        packet.metadata = metadata;
      }
    });

    await lastValueFrom(client.send('echo', { text: 'traced' }));
    await lastValueFrom(client.emit('note', { text: 'traced event' }));
    await lastValueFrom(client.send('echo', { text: 'plain' }));
    await until(() => peer.datagrams.length === 3);

    expect(peer.packets()).toEqual([
      { pattern: 'echo', data: { text: 'traced' }, id: expect.any(String) as string, metadata },
      { pattern: 'note', data: { text: 'traced event' }, metadata },
      { pattern: 'echo', data: { text: 'plain' }, id: expect.any(String) as string },
    ]);
    expect(Buffer.byteLength(peer.datagrams[0])).toBe(UDP_MIN_REQUEST_BYTES); // still padded to the same size
  });

  it('counts the trace context in the size of a request when tracing is on, so that the largest echo still fits', async () => {
    const text = { text: 'x'.repeat(5_000) };
    const untraced = requestDatagramBytes('echo', text);
    const tracing = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} });
    try {
      const traced = requestDatagramBytes('echo', text);
      expect(traced - untraced).toBe(',"metadata":{"traceparent":""}'.length + 55);

      client.setOnDispatchHook((packet) => {
        const { traceId, spanId } = trace.getActiveSpan()!.spanContext();
        packet.metadata = { traceparent: `00-${traceId}-${spanId}-01` };
      });
      const call = activeTracer()!.startSpan('call');
      await context.with(trace.setSpan(context.active(), call), () => lastValueFrom(client.send('echo', text)));
      call.end();
      expect(peer.datagrams[0].length).toBe(traced);
    } finally {
      await tracing.shutdown();
    }
  });

  it('gives each request a new id', async () => {
    await Promise.all([lastValueFrom(client.send('echo', { text: 'a' })), lastValueFrom(client.send('echo', { text: 'b' }))]);

    const [first, second] = peer.packets().map((packet) => packet.id);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
  });

  it('sends an event once, padded and without an id', async () => {
    await lastValueFrom(client.emit('note', { text: 'hello' }), { defaultValue: undefined });
    await until(() => peer.datagrams.length === 1);

    expect(peer.datagrams[0].length).toBe(UDP_MIN_REQUEST_BYTES);
    expect(peer.packets()).toEqual([{ pattern: 'note', data: { text: 'hello' } }]);
  });

  it('fails a request with the error envelope the peer replied with', async () => {
    await expect(lastValueFrom(client.send('boom', {}))).rejects.toEqual({ code: 'X' });
  });

  it('refuses a request too large for a datagram with NOT_SENT, and sends nothing', async () => {
    const big = lastValueFrom(client.send('echo', { text: 'x'.repeat(16_384) }));

    await expect(big).rejects.toBeInstanceOf(RpcClientError);
    await expect(big).rejects.toMatchObject({
      code: 'NOT_SENT',
      message: expect.stringMatching(/too large for a datagram \(maxDatagramBytes 16384\)/) as string,
    });
    await lastValueFrom(client.send('echo', { text: 'after' }));
    expect(peer.packets().map((packet) => packet.data)).toEqual([{ text: 'after' }]);
  });

  it('refuses an event too large for a datagram, by its own maxDatagramBytes', async () => {
    client.close();
    client = createClient({ maxDatagramBytes: 2_000 });

    await expect(lastValueFrom(client.emit('note', { text: 'x'.repeat(2_000) }))).rejects.toMatchObject({ code: 'NOT_SENT' });
    await expect(lastValueFrom(client.send('echo', { text: 'x'.repeat(1_900) }))).resolves.toEqual({ text: 'x'.repeat(1_900) });
  });

  it('sends exactly maxDatagramBytes, and refuses one byte more', async () => {
    const overhead = requestDatagramBytes('echo', { text: 'x'.repeat(2_000) }) - 2_000;
    const fits = 'x'.repeat(16_384 - overhead);

    await expect(lastValueFrom(client.send('echo', { text: fits }))).resolves.toEqual({ text: fits });
    expect(peer.datagrams[0].length).toBe(16_384);
    await expect(lastValueFrom(client.send('echo', { text: `${fits}x` }))).rejects.toMatchObject({ code: 'NOT_SENT' });
  });

  it.each<[string, string, object]>([
    ['hello', 'hello', { client: 'test' }],
    ['echo', 'echo', { text: 'lost' }],
    ['a pure command', 'command', { name: 'upper', args: ['x'] }],
  ])('sends %s again, the same datagram, until a reply comes through the loss', async (_, pattern, data) => {
    peer.dropFirst = 2;

    await expect(lastValueFrom(client.send(pattern, data))).resolves.toBeDefined();

    expect(peer.datagrams).toHaveLength(3);
    expect(peer.datagrams[1].equals(peer.datagrams[0])).toBe(true);
    expect(peer.datagrams[2].equals(peer.datagrams[0])).toBe(true);
  });

  it.each<[string, string, object]>([
    ['sleep', 'command', { name: 'sleep', args: ['10'] }],
    ['an unknown command', 'command', { name: 'rm', args: [] }],
    ['an unknown pattern', 'boom', {}],
  ])('sends %s, not idempotent, only once', async (_, pattern, data) => {
    peer.dropFirst = Infinity;
    const subscription = client.send(pattern, data).subscribe({ error: () => undefined });

    await delay(150);
    subscription.unsubscribe();
    expect(peer.datagrams).toHaveLength(1);
  });

  it('waits twice as long before each further retransmission', async () => {
    peer.dropFirst = Infinity;
    const subscription = client.send('echo', { text: 'lost' }).subscribe();

    // Sent at 0, 20, 60, 140, 300 ms: a fixed 20 ms would have sent 15 by then.
    await delay(290);
    subscription.unsubscribe();
    expect(peer.datagrams.length).toBeGreaterThanOrEqual(3);
    expect(peer.datagrams.length).toBeLessThanOrEqual(5);
  });

  it('stops retransmitting a request unsubscribed from (the call timed out)', async () => {
    peer.dropFirst = Infinity;
    const subscription: Subscription = client.send('echo', { text: 'lost' }).subscribe();
    await until(() => peer.datagrams.length >= 2);

    subscription.unsubscribe();
    const sent = peer.datagrams.length;
    await delay(100);
    expect(peer.datagrams).toHaveLength(sent);
    expect(client['pending'].size).toBe(0);
  });

  it('settles a request once: a duplicate reply to it is ignored', async () => {
    await client.connect();
    const { packets } = publish('twice', {});
    await until(() => packets.length > 0);
    await lastValueFrom(client.send('echo', { text: 'after the duplicate' }));

    expect(packets).toEqual([{ err: undefined, response: 'first', isDisposed: true }]);
  });

  it('ignores datagrams that are not replies, or not to a request in flight', async () => {
    peer.dropFirst = 1;
    await client.connect();
    const { packets } = publish('echo', { text: 'x' });
    await until(() => peer.datagrams.length === 1);
    const to = { address: '127.0.0.1', family: 'IPv4', port: client.unwrap<Socket>().address().port, size: 0 } as const;

    peer.reply(to, 'not json');
    peer.reply(to, '[1, 2]');
    peer.reply(to, { id: 'someone-else', response: 'wrong', isDisposed: true });
    await until(() => packets.length > 0); // the retransmission's reply
    expect(packets).toEqual([{ err: undefined, response: { text: 'x' }, isDisposed: true }]);
  });

  it('hears only the server: the kernel drops a reply from another address', async () => {
    peer.dropFirst = Infinity;
    await client.connect();
    const { packets } = publish('echo', { text: 'x' });
    await until(() => peer.datagrams.length === 1);
    const stranger = createSocket('udp4');
    const id = peer.packets()[0].id;
    const { port } = client.unwrap<Socket>().address();

    await new Promise((resolve) =>
      stranger.send(JSON.stringify({ id, response: 'spoofed', isDisposed: true }), port, '127.0.0.1', resolve),
    );
    await delay(50);
    stranger.close();
    expect(packets).toEqual([]);
  });

  it('fails the requests in flight when it is closed, as a closed TCP connection does', async () => {
    const pending = lastValueFrom(client.send<unknown>('never', {}));
    await until(() => peer.datagrams.length === 1);
    const statuses: string[] = [];
    client.status.subscribe((status) => statuses.push(status));

    client.close();

    const error = await pending.catch((caught: unknown) => caught);
    expect(toRpcClientError(error, 'never').code).toBe('CONNECTION_LOST');
    expect(statuses).toEqual(['connected', 'disconnected']);
    expect(() => client.unwrap()).toThrow(/connect/);
  });

  it('reports ICMP port unreachable as CONNECTION_FAILED and disconnected, and connects again after', async () => {
    client.close();
    client = createClient({ port: await closedPort() });
    const statuses: string[] = [];
    client.status.subscribe((status) => statuses.push(status));

    const error = await lastValueFrom(client.send<unknown>('echo', { text: 'anyone?' })).catch((caught: unknown) => caught);

    const mapped = toRpcClientError(error, 'echo');
    expect(mapped).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(mapped.message).toMatch(/127\.0\.0\.1:\d+\/udp port unreachable.*ECONNREFUSED/);
    expect(statuses).toEqual(['connected', 'disconnected']);
    await expect(client.connect()).resolves.toBeUndefined();
    expect(statuses.at(-1)).toBe('connected');
  });

  it('fails connect() on a host that does not resolve', async () => {
    client.close();
    client = createClient({ host: 'no-such-host.invalid' });

    const error = await client.connect().catch((caught: unknown) => caught);
    expect(toRpcClientError(error, 'connect').code).toBe('CONNECTION_FAILED');
  });

  it('passes on listeners registered with on() to the socket', async () => {
    const closed = jest.fn();
    client.on('close', closed);
    await client.connect();

    client.close();
    await until(() => closed.mock.calls.length === 1);
  });

  it.each([1_199, 65_508, 2_000.5])('refuses maxDatagramBytes %s', (maxDatagramBytes) => {
    expect(() => createClient({ maxDatagramBytes })).toThrow(RangeError);
  });
});

describe('EchoClient over UDP', () => {
  let peer: Peer;
  let client: EchoClient;

  beforeEach(async () => {
    peer = await Peer.start();
    client = EchoClient.create({ host: '127.0.0.1', port: peer.port, protocol: 'udp', udp: { retransmitAfterMs: 20 }, timeoutMs: 1_000 });
  });

  afterEach(async () => {
    await client.close();
    await peer.close();
  });

  it('makes typed calls over datagrams, through packet loss', async () => {
    peer.dropFirst = 1;

    await expect(client.echo({ text: 'über UDP 👋' })).resolves.toEqual({ text: 'über UDP 👋' });
    expect(client.connectionInfo()).toMatchObject({ state: 'connected', connects: 1 });
    expect(client.maxDatagramBytes).toBe(16_384);
  });

  it('rejects a reply too large for UDP with REPLY_TOO_LARGE, which says to use TCP', async () => {
    const error = await client.send('huge' as 'echo', { text: '' }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'REPLY_TOO_LARGE', retryable: false, message: 'use TCP' });
  });

  it('rejects a request too large for a datagram with NOT_SENT', async () => {
    await expect(client.echo({ text: 'x'.repeat(20_000) })).rejects.toMatchObject({ code: 'NOT_SENT', retryable: false });
  });

  it('times out a lost non-idempotent call, sent once', async () => {
    peer.dropFirst = Infinity;

    await expect(client.command({ name: 'sleep', args: ['1'] }, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(peer.datagrams).toHaveLength(1);
  });

  it('fails the calls in flight with CONNECTION_CLOSED when closed', async () => {
    peer.dropFirst = Infinity;
    const pending = client.echo({ text: 'x' });
    await until(() => peer.datagrams.length > 0);

    await client.close();

    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('refuses TLS options: UDP has no TLS', () => {
    expect(() => EchoClient.create({ host: '127.0.0.1', port: 1, protocol: 'udp', transport: { tlsOptions: {} } })).toThrow(
      /TLS needs protocol "tcp"/,
    );
  });

  it('has no datagram limit over TCP', async () => {
    const tcp = EchoClient.create({ host: '127.0.0.1', port: 1 });

    expect(tcp.maxDatagramBytes).toBeUndefined();
    await tcp.close();
  });
});
