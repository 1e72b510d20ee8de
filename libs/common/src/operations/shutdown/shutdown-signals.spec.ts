import { EventEmitter } from 'node:events';
import { onShutdownSignals, type SignalTarget } from './shutdown-signals';

class FakeProcess extends EventEmitter implements SignalTarget {
  readonly exits: number[] = [];

  exit(code: number): void {
    this.exits.push(code);
  }
}

describe('onShutdownSignals', () => {
  it('starts a graceful stop on the first signal and exits at once with its code on the second', () => {
    const target = new FakeProcess();
    const first = jest.fn();
    const second = jest.fn();
    onShutdownSignals({ onFirst: first, onSecond: second, secondExitCode: (signal) => (signal === 'SIGINT' ? 130 : 143), target });

    target.emit('SIGTERM', 'SIGTERM');
    expect(first).toHaveBeenCalledWith('SIGTERM');
    expect(target.exits).toEqual([]);

    target.emit('SIGINT', 'SIGINT');
    expect(second).toHaveBeenCalledWith('SIGINT');
    expect(target.exits).toEqual([130]);
    expect(first).toHaveBeenCalledTimes(1);
  });

  it('listens to the signals it is given only, and stops listening when disposed', () => {
    const target = new FakeProcess();
    const first = jest.fn();
    const dispose = onShutdownSignals({ onFirst: first, secondExitCode: () => 1, signals: ['SIGUSR2'], target });

    target.emit('SIGTERM', 'SIGTERM');
    expect(first).not.toHaveBeenCalled();
    dispose();
    target.emit('SIGUSR2', 'SIGUSR2');
    expect(first).not.toHaveBeenCalled();
    expect(target.listenerCount('SIGUSR2')).toBe(0);
  });
});
