import { EventEmitter } from 'node:events';
import { JsonSocket } from '@nestjs/microservices';
import { noDelayJsonSocket } from './no-delay-json-socket';

class FakeSocket extends EventEmitter {
  readonly setNoDelay = jest.fn();
  readonly end = jest.fn();
  readonly destroy = jest.fn();
}

describe('noDelayJsonSocket', () => {
  it("turns Nagle's algorithm off on the wrapped socket", () => {
    const raw = new FakeSocket();
    const SocketClass = noDelayJsonSocket();

    const socket = new SocketClass(raw);

    expect(socket).toBeInstanceOf(JsonSocket);
    expect(raw.setNoDelay).toHaveBeenCalledWith(true);
  });

  it('frames messages exactly as JsonSocket does', () => {
    const raw = new FakeSocket();
    const socket = new (noDelayJsonSocket())(raw);
    const messages: unknown[] = [];
    raw.on('message', (message) => messages.push(message));

    const json = JSON.stringify({ pattern: 'echo', data: { text: '你好' }, id: '1' });
    raw.emit('data', Buffer.from(`${json.length}#${json}`));

    expect(messages).toEqual([{ pattern: 'echo', data: { text: '你好' }, id: '1' }]);
    expect(socket.netSocket).toBe(raw);
  });

  it('applies the framing limits it was given, which Nest passes only to JsonSocket itself', () => {
    const raw = new FakeSocket();
    const errors: unknown[] = [];
    raw.on('error', (error) => errors.push(error));
    new (noDelayJsonSocket({ maxBufferSize: 16 }))(raw);

    raw.emit('data', Buffer.from('40#{"pattern":"echo","data":{"text":"'));

    expect(errors).toHaveLength(1);
    expect(raw.end).toHaveBeenCalled();
  });
});
