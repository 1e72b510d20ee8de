import type { ConfigService } from '@nestjs/config';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { StatsService } from '../../operations/stats/stats.service';
import type { CallOutcome, OutcomeNowOrLater } from '../gateway-server';
import { ChatRooms } from './chat-rooms.service';
import { TextConnection } from './text-connection';
import type { TextGatewayHost, TextGatewaySettings } from './text-gateway-host';

const SETTINGS: TextGatewaySettings = {
  encoding: 'auto',
  maxLineBytes: 1024,
  idleFlushMs: 50,
  welcomeDelayMs: 60_000,
  idleTimeoutMs: 0,
  lineTimeoutMs: 0,
  chatStallMs: 10_000,
  chatMaxBacklogBytes: 1 << 20,
};

/** A gateway whose echo handler answers as `answer` says: synchronously, or with a promise. */
class FakeHost implements TextGatewayHost {
  readonly settings = SETTINGS;
  readonly chat = new ChatRooms(new StatsService(), { get: () => 10 } as unknown as ConfigService<EchoServerEnvironment, true>);
  readonly logger = { log: jest.fn(), error: jest.fn(), warn: jest.fn() };
  /** The texts the echo handler was called with, in order. */
  readonly called: string[] = [];

  constructor(readonly answer: (text: string) => OutcomeNowOrLater) {}

  welcome(): string {
    return 'welcome';
  }

  call(_pattern: string, data: object): OutcomeNowOrLater {
    const { text } = data as { text: string };
    this.called.push(text);
    return this.answer(text);
  }

  contractCall(): string {
    return 'OK';
  }

  replyText(_pattern: string, _request: object, response: unknown): string {
    return (response as { text: string }).text;
  }

  countError = jest.fn();
  closedByDoor = jest.fn();
}

const now = (text: string): CallOutcome => ({ ok: true, response: { text } });

/** A text connection on loopback, served by `host`: the server socket's reads and writes are recorded. */
async function served(host: FakeHost): Promise<{ client: Socket; received: () => string; reads: string[]; writes: string[] }> {
  const server: Server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => reads.push(chunk.toString()));
    const write = socket.write.bind(socket) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    socket.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(chunk.toString());
      return write(chunk, ...rest);
    };
    new TextConnection(socket, 1, 'peer', host, { key: 'k', lastActive: 0 });
  });
  const reads: string[] = [];
  const writes: string[] = [];
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = connect({ port, host: '127.0.0.1' });
  clients.push(client);
  await once(client, 'connect');
  let text = '';
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => (text += chunk));
  return { client, received: () => text, reads, writes };
}

/** Waits (at most 2 s) until `ready()` holds. */
async function until(ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!ready()) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const servers: Server[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  clients.splice(0).forEach((client) => client.destroy());
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('TextConnection', () => {
  it('answers all lines of one read in one write, in order, when the handlers answer synchronously', async () => {
    let microtaskRan = false;
    const sawMicrotask: boolean[] = [];
    const host = new FakeHost((text) => {
      sawMicrotask.push(microtaskRan);
      if (text === 'a') {
        queueMicrotask(() => (microtaskRan = true));
      }
      return now(text);
    });
    const { client, received, reads, writes } = await served(host);

    client.write('a\nb\nc\nd\n');
    await until(() => received() === 'a\nb\nc\nd\n');

    expect(host.called).toEqual(['a', 'b', 'c', 'd']);
    expect(sawMicrotask).toEqual([false, false, false, false]); // one synchronous pass
    expect(writes).toHaveLength(reads.length);
    expect(writes.join('')).toBe('a\nb\nc\nd\n');
  });

  it('answers in one write too when each outcome is a promise that settles at once', async () => {
    const host = new FakeHost((text) => Promise.resolve(now(text)));
    const { client, received, reads, writes } = await served(host);

    client.write('a\nb\nc\n');
    await until(() => received() === 'a\nb\nc\n');

    expect(writes).toHaveLength(reads.length);
  });

  it('keeps the order of mixed outcomes; a pending one holds the later lines back, not the replies before it', async () => {
    let finish: (() => void) | undefined;
    const host = new FakeHost((text) =>
      text === 'slow' ? new Promise<CallOutcome>((resolve) => (finish = () => resolve(now('slow')))) : now(text),
    );
    const { client, received } = await served(host);

    client.write('a\nslow\nb\nc\n');
    await until(() => received() === 'a\n');
    expect(host.called).toEqual(['a', 'slow']); // b waits for slow
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received()).toBe('a\n');

    finish!();
    await until(() => received() === 'a\nslow\nb\nc\n');
    expect(host.called).toEqual(['a', 'slow', 'b', 'c']);
  });

  it('ends at quit within a batch: the replies before it and bye are written, the lines after it are not run', async () => {
    const host = new FakeHost(now);
    const { client, received } = await served(host);

    client.write('a\nquit\nb\n');
    await once(client, 'end');

    expect(received()).toBe('a\nbye\n');
    expect(host.called).toEqual(['a']);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('bug');
      },
    ],
    ['returns a promise that rejects', () => Promise.reject(new Error('bug'))],
  ])("closes the connection, logged, when a line's handling %s (a bug: errors are outcomes)", async (_label, answer) => {
    const host = new FakeHost((text) => (text === 'bad' ? answer() : now(text)));
    const { client, received } = await served(host);

    client.write('a\nbad\nb\n');
    await once(client, 'close');

    expect(received()).toBe('a\n');
    expect(host.called).toEqual(['a', 'bad']);
    expect(host.logger.error).toHaveBeenCalledWith(expect.stringContaining('a line failed: Error: bug'));
  });

  it('writes GBK replies after the line that made an auto connection GBK, and UTF-8 ones before it', async () => {
    const host = new FakeHost(now);
    const { client, reads, writes } = await served(host);
    const bytes: Buffer[] = [];
    client.removeAllListeners('data');
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => bytes.push(Buffer.from(chunk, 'latin1')));

    client.write(Buffer.concat([Buffer.from('x\n'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x0a]), Buffer.from('y\n')])); // "你好" in GBK
    await until(() => Buffer.concat(bytes).length === 9);

    expect(Buffer.concat(bytes)).toEqual(Buffer.from([0x78, 0x0a, 0xc4, 0xe3, 0xba, 0xc3, 0x0a, 0x79, 0x0a]));
    expect(writes.length).toBeLessThanOrEqual(reads.length + 1); // one write per encoding of the batch
  });
});
