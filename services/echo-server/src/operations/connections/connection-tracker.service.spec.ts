import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { StatsService } from '../stats/stats.service';
import { ConnectionTracker } from './connection-tracker.service';

interface FakeSocket extends EventEmitter {
  remoteAddress?: string;
  remotePort?: number;
  bytesRead: number;
  bytesWritten: number;
  end: jest.Mock;
  destroy: jest.Mock;
}

function fakeSocket(remoteAddress: string | undefined, remotePort: number | undefined): FakeSocket {
  const socket = new EventEmitter();
  return Object.assign(socket, {
    remoteAddress,
    remotePort,
    bytesRead: 0,
    bytesWritten: 0,
    end: jest.fn(),
    destroy: jest.fn(() => socket.emit('close', false)),
  });
}

describe('ConnectionTracker', () => {
  let stats: StatsService;
  let tracker: ConnectionTracker;
  let log: jest.SpyInstance;

  beforeEach(() => {
    stats = new StatsService();
    tracker = new ConnectionTracker(stats);
    log = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => {
    tracker.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('counts an opened connection and logs its number, peer and the open count', () => {
    tracker.track(fakeSocket('127.0.0.1', 40_000) as unknown as Socket, 'tcp');

    expect(stats.snapshot().connections).toEqual({ open: 1, total: 1, rejected: 0, evicted: 0 });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith('connection #1 opened from 127.0.0.1:40000 over tcp (1 open)');
  });

  it('counts the close once and logs the duration and the bytes moved', () => {
    const now = jest.spyOn(performance, 'now').mockReturnValue(1_000);
    const socket = fakeSocket('10.0.0.7', 51_234);
    tracker.track(socket as unknown as Socket, 'tcp');
    socket.bytesRead = 120;
    socket.bytesWritten = 345;
    now.mockReturnValue(3_750);

    socket.emit('close', false);
    socket.emit('close', false);

    expect(stats.snapshot().connections).toEqual({ open: 0, total: 1, rejected: 0, evicted: 0 });
    expect(log).toHaveBeenCalledTimes(2);
    expect(log).toHaveBeenLastCalledWith('connection #1 from 10.0.0.7:51234 closed after 2.750 s, 120 bytes in, 345 bytes out (0 open)');
  });

  it('says when a connection closed with an error', () => {
    const socket = fakeSocket('10.0.0.7', 51_234);
    tracker.track(socket as unknown as Socket, 'tcp');

    socket.emit('close', true);

    expect(log).toHaveBeenLastCalledWith(expect.stringContaining('connection #1 from 10.0.0.7:51234 closed with an error after '));
  });

  it('numbers connections and keeps the open count across several sockets', () => {
    const [a, b, c] = [fakeSocket('127.0.0.1', 1), fakeSocket('127.0.0.1', 2), fakeSocket('127.0.0.1', 3)];
    tracker.track(a as unknown as Socket, 'tcp');
    tracker.track(b as unknown as Socket, 'tcp');
    b.emit('close', false);
    tracker.track(c as unknown as Socket, 'tcp');

    expect(stats.snapshot().connections).toEqual({ open: 2, total: 3, rejected: 0, evicted: 0 });
    expect(log).toHaveBeenCalledWith('connection #2 opened from 127.0.0.1:2 over tcp (2 open)');
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^connection #2 from 127\.0\.0\.1:2 closed after .* \(1 open\)$/));
    expect(log).toHaveBeenCalledWith('connection #3 opened from 127.0.0.1:3 over tcp (2 open)');
  });

  it.each([
    { address: '192.168.1.20', port: 5000, peer: '192.168.1.20:5000' },
    { address: '::1', port: 5000, peer: '[::1]:5000' },
    { address: '::ffff:127.0.0.1', port: 6001, peer: '[::ffff:127.0.0.1]:6001' },
    { address: 'fe80::1%eth0', port: 7, peer: '[fe80::1%eth0]:7' },
    { address: undefined, port: 5000, peer: 'unknown:5000' },
  ])('formats the peer $address as $peer', ({ address, port, peer }) => {
    const socket = fakeSocket(address, port);
    tracker.track(socket as unknown as Socket, 'tcp');
    socket.emit('close', false);

    expect(log).toHaveBeenNthCalledWith(1, `connection #1 opened from ${peer} over tcp (1 open)`);
    expect(log).toHaveBeenNthCalledWith(2, expect.stringContaining(`connection #1 from ${peer} closed after `));
  });

  describe('closeAll', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    it('ends every open connection, stops dispatching its frames, and resolves once the peers closed their side', async () => {
      const [a, b, gone] = [fakeSocket('127.0.0.1', 1), fakeSocket('127.0.0.1', 2), fakeSocket('127.0.0.1', 3)];
      [a, b, gone].forEach((socket) => tracker.track(socket as unknown as Socket, 'tcp'));
      gone.emit('close', false);
      const handler = jest.fn();
      a.on('message', handler);
      let settled = false;

      const closing = tracker.closeAll(1_000).finally(() => (settled = true));
      a.emit('message', { id: 'late' });

      expect(tracker.openConnections).toBe(2);
      expect(a.end).toHaveBeenCalledTimes(1);
      expect(b.end).toHaveBeenCalledTimes(1);
      expect(gone.end).not.toHaveBeenCalled();
      expect(handler).not.toHaveBeenCalled();
      a.emit('close', false);
      await Promise.resolve();
      expect(settled).toBe(false);
      b.emit('close', false);
      await expect(closing).resolves.toEqual({ closed: 2, cutOff: 0 });
      expect(tracker.openConnections).toBe(0);
      expect(a.destroy).not.toHaveBeenCalled();
    });

    it('destroys a connection whose peer has not closed its side after the grace period', async () => {
      jest.useFakeTimers();
      const [polite, silent] = [fakeSocket('127.0.0.1', 1), fakeSocket('127.0.0.1', 2)];
      tracker.track(polite as unknown as Socket, 'tcp');
      tracker.track(silent as unknown as Socket, 'tcp');

      const closing = tracker.closeAll(1_000);
      polite.emit('close', false);
      jest.advanceTimersByTime(999);
      expect(silent.destroy).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);

      await expect(closing).resolves.toEqual({ closed: 2, cutOff: 1 });
      expect(silent.destroy).toHaveBeenCalledTimes(1);
      expect(polite.destroy).not.toHaveBeenCalled();
    });

    it('resolves at once when no connection is open', async () => {
      await expect(tracker.closeAll(1_000)).resolves.toEqual({ closed: 0, cutOff: 0 });
    });
  });

  it('counts and warns about a connection rejected by the framed socket, with its reason and peer', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    tracker.rejected({ reason: 'FRAME_TOO_LONG', peer: '127.0.0.1:5050', detail: 'announced length reaches 99999999' });

    expect(stats.snapshot().rejections).toEqual({ total: 1, byReason: { FRAME_TOO_LONG: 1 } });
    expect(warn).toHaveBeenCalledWith('connection from 127.0.0.1:5050 rejected: FRAME_TOO_LONG (announced length reaches 99999999)');
  });

  it('counts a refused TLS handshake with the rejections and warns with its peer and reason', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    tracker.tlsRefused({ peer: '127.0.0.1:5051', reason: 'ERR_SSL_WRONG_VERSION_NUMBER', detail: 'not a TLS handshake' });

    expect(stats.snapshot().rejections).toEqual({ total: 1, byReason: { TLS_HANDSHAKE_REFUSED: 1 } });
    expect(warn).toHaveBeenCalledWith('TLS handshake from 127.0.0.1:5051 refused: ERR_SSL_WRONG_VERSION_NUMBER (not a TLS handshake)');
  });

  it('counts a connection refused by MAX_CONNECTIONS_PER_ADDRESS and an eviction, and warns about them', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    tracker.refused({ transport: 'text', limit: 'MAX_CONNECTIONS_PER_ADDRESS', peer: '[::1]:5050', address: '0:0:0:0::/64', max: 256 });
    tracker.evicted({ transport: 'tcp', peer: '10.0.0.1:5051', address: '10.0.0.1', setting: 'MAX_CONNECTIONS', idleMs: 12_345 });
    tracker.onApplicationShutdown();

    expect(stats.snapshot().connections).toEqual({ open: 0, total: 0, rejected: 1, evicted: 1 });
    expect(warn.mock.calls).toEqual([
      ['connection from [::1]:5050 refused on text: 256 connections from 0:0:0:0::/64 are open (MAX_CONNECTIONS_PER_ADDRESS)'],
      ['connection from 10.0.0.1:5051 on tcp closed for a newcomer: MAX_CONNECTIONS reached and it was the longest idle (12.3 s)'],
    ]);
  });

  it('logs a flood of refusals as one line for the interval, counting every one', () => {
    jest.useFakeTimers();
    try {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      for (let index = 0; index < 3001; index += 1) {
        tracker.refused({
          transport: 'text',
          limit: 'MAX_CONNECTIONS_PER_ADDRESS',
          peer: `127.0.0.1:${1024 + index}`,
          address: '127.0.0.1',
          max: 256,
        });
      }
      jest.advanceTimersByTime(10_000);
      expect(stats.snapshot().connections.rejected).toBe(3001);
      expect(warn).toHaveBeenCalledTimes(6);
      expect(warn).toHaveBeenLastCalledWith(
        '2996 more in the last 10 s: 2996 refused by MAX_CONNECTIONS_PER_ADDRESS on text; from 1 address, top: 127.0.0.1 (2996)',
      );
    } finally {
      tracker.onApplicationShutdown();
      jest.useRealTimers();
    }
  });
});
