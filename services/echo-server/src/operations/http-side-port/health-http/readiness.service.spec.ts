import type { DrainService } from '../../shutdown/drain.service';
import { Readiness } from './readiness.service';

describe('Readiness', () => {
  let drain: { draining: boolean };
  let readiness: Readiness;

  beforeEach(() => {
    drain = { draining: false };
    readiness = new Readiness(drain as DrainService);
  });

  it('is not ready before any transport listens', () => {
    expect(readiness.state()).toEqual({ ready: false, draining: false, transports: {} });
  });

  it('is ready once every transport it watches listens', () => {
    readiness.watch('tcp', () => true);
    readiness.watch('text', () => true);
    readiness.watch('udp', () => true);

    expect(readiness.state()).toEqual({
      ready: true,
      draining: false,
      transports: { tcp: 'listening', text: 'listening', udp: 'listening' },
    });
  });

  it('asks the transports each time: one that stopped listening makes it not ready', () => {
    let textListening = true;
    readiness.watch('tcp', () => true);
    readiness.watch('text', () => textListening);
    expect(readiness.state().ready).toBe(true);

    textListening = false;

    expect(readiness.state()).toEqual({ ready: false, draining: false, transports: { tcp: 'listening', text: 'closed' } });
  });

  it('is not ready once the drain has begun, even while the transports still listen', () => {
    readiness.watch('tcp', () => true);

    drain.draining = true;

    expect(readiness.state()).toEqual({ ready: false, draining: true, transports: { tcp: 'listening' } });
  });
});
