import { TcpSocket } from '@nestjs/microservices';
import { FakeNetSocket } from './fake-net-socket';
import { FramedJsonSocket } from './framed-json-socket';
import { framedJsonSocket } from './framed-json-socket.factory';
import type { FramedJsonSocketOptions } from './framed-json-socket-options';
import type { SocketRejection } from '../contract/socket-rejection';

function frame(message: unknown): Buffer {
  const json = JSON.stringify(message);
  return Buffer.from(`${json.length}#${json}`);
}

function setUp(options: FramedJsonSocketOptions = {}) {
  const raw = new FakeNetSocket();
  const rejections: SocketRejection[] = [];
  const socket = new (framedJsonSocket({ incompleteFrameTimeoutMs: 0, ...options, onRejection: (r) => rejections.push(r) }))(
    raw.asSocket(),
  );
  const messages: Array<Record<string, unknown>> = [];
  raw.on('message', (message: Record<string, unknown>) => messages.push(message));
  return { raw, socket, rejections, messages };
}

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

/** A fake socket that, like `net.Socket`, knows when it was ended, and records which writes came after the end. */
class EndingFakeSocket extends FakeNetSocket {
  readonly writesAfterEnd: Buffer[] = [];

  get writableEnded(): boolean {
    return this.ended;
  }

  override write(data: Buffer, callback?: (error?: Error) => void): boolean {
    if (this.ended) {
      this.writesAfterEnd.push(Buffer.from(data));
    }
    return super.write(data, callback);
  }
}

describe('FramedJsonSocket', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it("is a TcpSocket of Nest's transport, over the socket it wraps, with Nagle's algorithm off by default", () => {
    const { raw, socket } = setUp();

    expect(socket).toBeInstanceOf(TcpSocket);
    expect(socket).toBeInstanceOf(FramedJsonSocket);
    expect(socket.netSocket).toBe(raw);
    expect(raw.noDelay).toBe(true);
    expect(setUp({ noDelay: false }).raw.noDelay).toBe(false);
  });

  it('writes every frame sent within one tick in a single write, in stock framing', async () => {
    const { raw, socket } = setUp();
    const callback = jest.fn();

    socket.sendMessage({ id: '1', response: 'é' });
    socket.sendMessage({ id: '2', response: '😀' }, callback);
    expect(raw.written).toHaveLength(0);
    await tick();

    expect(raw.written).toHaveLength(1);
    const first = JSON.stringify({ id: '1', response: 'é' });
    const second = JSON.stringify({ id: '2', response: '😀' });
    expect(raw.output().toString()).toBe(`${first.length}#${first}${second.length}#${second}`);
    expect(callback).toHaveBeenCalledWith(undefined);
  });

  it('writes at most 16 frames per write, the rest of the tick in the next', async () => {
    const { raw, socket } = setUp();
    const callbacks = Array.from({ length: 20 }, () => jest.fn());

    callbacks.forEach((callback, n) => socket.sendMessage({ id: String(n), response: n }, callback));
    expect(raw.written).toHaveLength(1);
    await tick();

    expect(raw.written).toHaveLength(2);
    const frames = callbacks.map((_, n) => JSON.stringify({ id: String(n), response: n })).map((json) => `${json.length}#${json}`);
    expect(raw.written.map(String)).toEqual([frames.slice(0, 16).join(''), frames.slice(16).join('')]);
    callbacks.forEach((callback) => expect(callback).toHaveBeenCalledWith(undefined));
  });

  it('on end(), writes the frames queued in this tick before ending the socket (as ClientTCP.close() ends it)', async () => {
    const raw = new EndingFakeSocket();
    const socket = new (framedJsonSocket())(raw.asSocket());
    const callback = jest.fn();

    socket.sendMessage({ id: '1', pattern: 'echo', data: {} }, callback);
    socket.end();
    await tick();

    const json = JSON.stringify({ id: '1', pattern: 'echo', data: {} });
    expect(raw.output().toString()).toBe(`${json.length}#${json}`);
    expect(raw.ended).toBe(true);
    expect(raw.writesAfterEnd).toHaveLength(0);
    expect(callback).toHaveBeenCalledWith(undefined);
  });

  it('drops the frames of a socket ended or destroyed behind its back, failing their callbacks, and refuses new ones', async () => {
    for (const close of [(raw: EndingFakeSocket) => raw.end(), (raw: EndingFakeSocket) => raw.destroy()]) {
      const raw = new EndingFakeSocket();
      const socket = new (framedJsonSocket())(raw.asSocket());
      const queued = jest.fn();
      const late = jest.fn();

      socket.sendMessage({ id: '1', pattern: 'echo', data: {} }, queued);
      close(raw);
      socket.sendMessage({ id: '2', pattern: 'echo', data: {} }, late);
      await tick();

      expect(raw.written).toHaveLength(0);
      expect(queued).toHaveBeenCalledWith(new Error('connection ended'));
      expect(late).toHaveBeenCalledWith(new Error('connection ended'));
    }
  });

  it('throws, as JsonSocket does, for a message that has no JSON text', () => {
    expect(() => setUp().socket.sendMessage(undefined)).toThrow(TypeError);
  });

  it('emits each frame as a message on the wrapped socket', () => {
    const { raw, messages } = setUp();

    raw.emit('data', Buffer.concat([frame({ pattern: 'echo', data: { text: '你好' }, id: '1' }), frame({ pattern: 'note', data: {} })]));

    expect(messages).toEqual([
      { pattern: 'echo', data: { text: '你好' }, id: '1' },
      { pattern: 'note', data: {} },
    ]);
  });

  it('holds the frames after the one being delivered until resumeFrames, pausing the connection meanwhile', async () => {
    const { raw, socket, messages } = setUp();
    raw.on('message', (message: Record<string, unknown>) => message.id === '2' && socket.holdFrames());

    raw.emit('data', Buffer.concat([1, 2, 3, 4].map((id) => frame({ pattern: 'echo', data: {}, id: String(id) }))));
    expect(messages.map((m) => m.id)).toEqual(['1', '2']);
    expect(raw.paused).toBe(true);
    raw.emit('data', frame({ pattern: 'echo', data: {}, id: '5' }));
    expect(messages).toHaveLength(2);

    socket.resumeFrames();
    expect(messages).toHaveLength(2); // from the next tick, after the replies of this one
    await tick();
    expect(messages.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(raw.paused).toBe(false);
  });

  it('reads on only once neither held frames nor a peer not reading its replies pause the connection', async () => {
    const { raw, socket, messages } = setUp();
    raw.writeResult = false;
    socket.sendMessage({ id: '0', response: 'x', isDisposed: true });
    await tick();
    socket.holdFrames();
    raw.emit('data', frame({ pattern: 'echo', id: '1' }));
    expect(raw.paused).toBe(true);

    raw.writeResult = true;
    raw.emit('drain');
    expect(raw.paused).toBe(true);
    expect(messages).toHaveLength(0);

    socket.resumeFrames();
    await tick();
    expect(messages).toHaveLength(1);
    expect(raw.paused).toBe(false);
  });

  it('rejects for its consumer once, with the same report and close as for a framing error', () => {
    const { raw, socket, rejections, messages } = setUp();

    socket.reject('DUPLICATE_REQUEST_ID', 'id "x" is already in flight');
    socket.reject('NO_PATTERN', 'a second reason is not reported');
    raw.emit('data', frame({ pattern: 'echo', id: '1' }));

    expect(rejections).toEqual([{ reason: 'DUPLICATE_REQUEST_ID', peer: '127.0.0.1:40000', detail: 'id "x" is already in flight' }]);
    expect(raw.ended).toBe(true);
    expect(messages).toHaveLength(0);
  });

  it('delivers any object, with or without a pattern or an id: what a frame asks for is checked by its consumer', () => {
    const { raw, messages, rejections } = setUp();

    raw.emit('data', Buffer.concat([frame({ id: '2', data: {} }), frame({ id: '2', data: {} }), frame({})]));

    expect(messages).toEqual([{ id: '2', data: {} }, { id: '2', data: {} }, {}]);
    expect(rejections).toHaveLength(0);
  });

  it('stops reading while the peer does not read its replies, and goes on after "drain"', async () => {
    const { raw, socket, messages } = setUp();
    raw.writeResult = false;

    raw.emit('data', frame({ pattern: 'echo', id: '1' }));
    socket.sendMessage({ id: '1', response: 'x', isDisposed: true });
    await tick();
    raw.emit('data', frame({ pattern: 'echo', id: '2' }));
    expect(raw.paused).toBe(true);
    expect(messages).toHaveLength(1);

    raw.writeResult = true;
    raw.emit('drain');

    expect(messages).toHaveLength(2);
    expect(raw.paused).toBe(false);
  });

  it('destroys the connection when more than maxSendBufferBytes wait for the peer', async () => {
    const { raw, socket, rejections } = setUp({ maxSendBufferBytes: 100 });
    raw.writableLength = 101;

    socket.sendMessage({ id: '1', response: 'x' });
    await tick();

    expect(rejections).toMatchObject([{ reason: 'SEND_BUFFER_LIMIT', peer: '127.0.0.1:40000' }]);
    expect(raw.destroyed).toBe(true);
  });

  it.each([
    { input: 'x#{}', reason: 'BAD_HEADER' },
    { input: '99999999999#', reason: 'FRAME_TOO_LONG' },
    { input: '3#abc', reason: 'INVALID_JSON' },
    { input: '4#null', reason: 'NOT_AN_OBJECT' },
    { input: '2#42', reason: 'NOT_AN_OBJECT' },
    { input: '2#[]', reason: 'NOT_AN_OBJECT' },
  ])('ends the connection once for $input: $reason, still sending the replies already produced', async ({ input, reason }) => {
    const { raw, socket, rejections } = setUp();
    socket.sendMessage({ id: '0', response: 'earlier', isDisposed: true });

    raw.emit('data', Buffer.from(input));
    raw.emit('data', Buffer.from('x#'));

    expect(rejections).toEqual([{ reason, peer: '127.0.0.1:40000', detail: expect.any(String) as unknown }]);
    expect(raw.ended).toBe(true);
    expect(raw.output().toString()).toContain('"earlier"');
    const late = jest.fn();
    socket.sendMessage({ id: '1', response: 'late' }, late);
    await tick();
    expect(late).toHaveBeenCalledWith(expect.any(Error));
    expect(raw.output().toString()).not.toContain('late');
  });

  it('destroys a connection whose frame is still incomplete after the timeout, however slowly bytes keep coming', () => {
    jest.useFakeTimers();
    const { raw, rejections } = setUp({ incompleteFrameTimeoutMs: 1_000 });

    raw.emit('data', Buffer.from('10#{"a'));
    jest.advanceTimersByTime(600);
    raw.emit('data', Buffer.from('b'));
    jest.advanceTimersByTime(399);
    expect(rejections).toHaveLength(0);
    jest.advanceTimersByTime(1);

    expect(rejections).toMatchObject([{ reason: 'INCOMPLETE_FRAME_TIMEOUT' }]);
    expect(raw.destroyed).toBe(true);
  });

  it('gives each new frame its own deadline and none when no frame is in progress', () => {
    jest.useFakeTimers();
    const { raw, rejections, messages } = setUp({ incompleteFrameTimeoutMs: 1_000 });

    raw.emit('data', Buffer.from('2#{'));
    jest.advanceTimersByTime(900);
    raw.emit('data', Buffer.from('}2#{'));
    jest.advanceTimersByTime(900);
    raw.emit('data', Buffer.from('}'));
    jest.advanceTimersByTime(5_000);

    expect(messages).toEqual([{}, {}]);
    expect(rejections).toHaveLength(0);
  });

  it('destroys at once when the buffered-bytes limit is passed', () => {
    const { raw, rejections } = setUp({ maxBufferedBytes: 16 });

    raw.emit('data', Buffer.from(`30#"${'x'.repeat(20)}`));

    expect(rejections).toMatchObject([{ reason: 'BUFFER_LIMIT' }]);
    expect(raw.destroyed).toBe(true);
  });
});
