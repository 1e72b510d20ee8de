import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { DrainResult } from './drain.service';
import { drainOnSignals, type SignalTarget } from './shutdown-signals';

class FakeProcess extends EventEmitter implements SignalTarget {
  readonly exit = jest.fn<void, [number]>();
}

const DRAINED: DrainResult = { drained: true, inFlight: 0, connections: 1, elapsedMs: 5 };
const NOT_DRAINED: DrainResult = { drained: false, inFlight: 2, connections: 1, elapsedMs: 10_000 };

describe('drainOnSignals', () => {
  let target: FakeProcess;

  beforeEach(() => {
    target = new FakeProcess();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('drains on %s, then exits 0 once drained', async (signal) => {
    const drain = jest.fn(() => Promise.resolve(DRAINED));
    drainOnSignals(drain, { target });

    target.emit(signal, signal);
    await flushPromises();

    expect(drain).toHaveBeenCalledTimes(1);
    expect(target.exit).toHaveBeenCalledWith(0);
  });

  it('exits 1 when the deadline passed with messages in flight', async () => {
    drainOnSignals(() => Promise.resolve(NOT_DRAINED), { target });

    target.emit('SIGTERM', 'SIGTERM');
    await flushPromises();

    expect(target.exit).toHaveBeenCalledWith(1);
  });

  it('exits 1 and says so when the drain fails', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    drainOnSignals(() => Promise.reject(new Error('boom')), { target });

    target.emit('SIGTERM', 'SIGTERM');
    await flushPromises();

    expect(target.exit).toHaveBeenCalledWith(1);
    expect(error).toHaveBeenCalledWith('shutdown failed: boom; exiting with code 1');
  });

  it('exits 1 at once on a second signal during the drain, without draining again', () => {
    const drain = jest.fn(() => new Promise<DrainResult>(() => undefined)); // never settles
    drainOnSignals(drain, { target });

    target.emit('SIGTERM', 'SIGTERM');
    expect(target.exit).not.toHaveBeenCalled();
    target.emit('SIGINT', 'SIGINT');

    expect(drain).toHaveBeenCalledTimes(1);
    expect(target.exit).toHaveBeenCalledTimes(1);
    expect(target.exit).toHaveBeenCalledWith(1);
  });

  it('listens to the signals it is given only', async () => {
    const drain = jest.fn(() => Promise.resolve(DRAINED));
    drainOnSignals(drain, { target, signals: ['SIGTERM'] });

    target.emit('SIGINT', 'SIGINT');
    await flushPromises();

    expect(drain).not.toHaveBeenCalled();
    expect(target.listenerCount('SIGINT')).toBe(0);
  });
});

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
