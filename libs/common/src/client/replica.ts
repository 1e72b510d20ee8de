import type { ClientProxy } from '@nestjs/microservices';
import type { ReplicaInfo } from './connection-info';
import type { ConnectionKeeper } from './connection-keeper';

/** One replica: a proxy (one connection) kept by its own `ConnectionKeeper`, and the calls the client sent on it. */
export class Replica {
  inFlight = 0;
  calls = 0;
  failures = 0;
  ejected = false;
  draining = false;
  retiring = false;

  constructor(
    readonly address: string,
    readonly proxy: ClientProxy,
    readonly keeper: ConnectionKeeper,
  ) {}

  info(): ReplicaInfo {
    return {
      address: this.address,
      ...this.keeper.info(),
      inFlight: this.inFlight,
      calls: this.calls,
      failures: this.failures,
      ejected: this.ejected,
      draining: this.draining,
      retiring: this.retiring,
    };
  }
}
