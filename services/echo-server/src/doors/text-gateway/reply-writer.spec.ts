import type { Socket } from 'node:net';
import { ReplyWriter } from './reply-writer';

/** A socket that records what it is given, as text (GBK bytes as hex), with a high-water mark of 16 characters. */
function fakeSocket(): Socket & { written: string[]; needDrain: boolean } {
  const socket = {
    written: [] as string[],
    needDrain: false,
    writableEnded: false,
    destroyed: false,
    writableHighWaterMark: 16,
    get writableNeedDrain() {
      return socket.needDrain;
    },
    write(chunk: string | Buffer, encodingOrTaken?: unknown, taken?: () => void) {
      socket.written.push(typeof chunk === 'string' ? chunk : `hex:${chunk.toString('hex')}`);
      (typeof encodingOrTaken === 'function' ? (encodingOrTaken as () => void) : taken)?.();
      return true;
    },
  };
  return socket as unknown as Socket & { written: string[]; needDrain: boolean };
}

describe('ReplyWriter', () => {
  it('writes at once while not holding, and gathers into one write while holding', () => {
    const socket = fakeSocket();
    const replies = new ReplyWriter(socket, () => undefined);

    replies.write('a', 'utf-8');
    replies.hold();
    replies.write('b', 'utf-8');
    replies.write('c', 'utf-8');
    expect(socket.written).toEqual(['a\n']);

    replies.release();
    expect(socket.written).toEqual(['a\n', 'b\nc\n']);
  });

  it('sends what it gathered once it reaches the high-water mark, so that writableNeedDrain can stop the batch', () => {
    const socket = fakeSocket();
    const replies = new ReplyWriter(socket, () => undefined);
    replies.hold();

    replies.write('0123456', 'utf-8');
    replies.write('0123456', 'utf-8');
    replies.write('x', 'utf-8');

    expect(socket.written).toEqual(['0123456\n0123456\n']);
    replies.release();
    expect(socket.written).toEqual(['0123456\n0123456\n', 'x\n']);
  });

  it('keeps each reply in the encoding it was written in', () => {
    const socket = fakeSocket();
    const replies = new ReplyWriter(socket, () => undefined);
    replies.hold();

    replies.write('a', 'utf-8');
    replies.write('你', 'gbk');
    replies.write('好', 'gbk');
    replies.release();

    expect(socket.written).toEqual(['a\n', 'hex:c4e30abac30a']);
  });

  it('sends the gathered replies before a chat line, which goes at once with its callback', () => {
    const socket = fakeSocket();
    const replies = new ReplyWriter(socket, () => undefined);
    const taken = jest.fn();
    replies.hold();

    replies.write('a', 'utf-8');
    replies.writeShared('<bob> hi', 'utf-8', taken);

    expect(socket.written).toEqual(['a\n', `hex:${Buffer.from('<bob> hi\n').toString('hex')}`]);
    expect(taken).toHaveBeenCalledTimes(1);
  });

  it('releaseSoon sends on the next turn, once, and only when something was gathered', async () => {
    const socket = fakeSocket();
    const replies = new ReplyWriter(socket, () => undefined);
    replies.hold();
    replies.releaseSoon(); // nothing gathered: nothing scheduled
    replies.write('a', 'utf-8');
    replies.releaseSoon();
    replies.write('b', 'utf-8');
    replies.releaseSoon();

    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.written).toEqual(['a\nb\n']);
  });

  it('reports a socket over its high-water mark, and writes nothing to an ended one', () => {
    const socket = fakeSocket();
    const backedUp = jest.fn();
    const replies = new ReplyWriter(socket, backedUp);

    socket.needDrain = true;
    replies.write('a', 'utf-8');
    expect(backedUp).toHaveBeenCalledTimes(1);

    (socket as { writableEnded: boolean }).writableEnded = true;
    replies.write('b', 'utf-8');
    expect(socket.written).toEqual(['a\n']);
  });
});
