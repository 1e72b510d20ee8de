import { ShutdownSignals } from './shutdown-signals';

describe('ShutdownSignals', () => {
  let exit: jest.Mock;
  let signals: ShutdownSignals;
  const listeners = process.listenerCount('SIGTERM');

  beforeEach(() => {
    jest.useFakeTimers();
    exit = jest.fn();
    signals = new ShutdownSignals(1_000, exit);
  });

  afterEach(() => {
    signals.dispose();
    jest.useRealTimers();
  });

  it('resolves with the run’s exit code when no signal comes', async () => {
    await expect(signals.race(Promise.resolve(3), true)).resolves.toEqual({ code: 3 });
  });

  it('asks the mode to stop on the first signal and waits for the run, within the bound', async () => {
    const stop = jest.fn();
    signals.onFirst(stop);
    let finish: (code: number) => void = () => undefined;
    const outcome = signals.race(new Promise<number>((resolve) => (finish = resolve)), true);

    process.emit('SIGTERM', 'SIGTERM');
    expect(stop).toHaveBeenCalledWith('SIGTERM');
    await jest.advanceTimersByTimeAsync(999);
    finish(0);

    await expect(outcome).resolves.toEqual({ code: 0 });
    expect(exit).not.toHaveBeenCalled();
  });

  it('gives up on a run that does not end within the bound', async () => {
    const outcome = signals.race(new Promise<number>(() => undefined), true);

    process.emit('SIGINT', 'SIGINT');
    await jest.advanceTimersByTimeAsync(1_000);

    await expect(outcome).resolves.toEqual({ stopped: 'SIGINT received, and the calls in flight did not end within 1000 ms' });
  });

  it('cuts a mode that cannot stop short at once', async () => {
    const outcome = signals.race(new Promise<number>(() => undefined), false);

    process.emit('SIGTERM', 'SIGTERM');

    await expect(outcome).resolves.toEqual({ stopped: 'SIGTERM received; the run was cut short' });
  });

  it('exits at once on a second signal, with 128 + its number', () => {
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT');

    expect(exit).toHaveBeenCalledWith(130);
  });

  it('removes its listeners when disposed', () => {
    expect(process.listenerCount('SIGTERM')).toBe(listeners + 1);
    signals.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(listeners);
  });
});
