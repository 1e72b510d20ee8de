import { Injectable } from '@nestjs/common';
import type { TransportName } from '@echo-pair/common';
import { DrainService } from '../../shutdown/drain.service';

type ListenerState = 'listening' | 'closed';

export interface ReadinessState {
  /** Every transport listens, and the server is not draining. */
  ready: boolean;
  draining: boolean;
  /** Each transport it watches (`HealthHttpModule`: every served transport), and whether it listens. */
  transports: Partial<Record<TransportName, ListenerState>>;
}

/**
 * Whether the server takes new work: ready once every transport it watches listens, not ready
 * before (none watched, or one not listening yet), nor once the drain began or a listener
 * closed. Read by `/readyz`; `/healthz` asks less: that the process answers.
 */
@Injectable()
export class Readiness {
  private readonly listeners = new Map<TransportName, () => boolean>();

  constructor(private readonly drain: DrainService) {}

  /** `listening` tells, when asked, whether the transport still accepts connections or datagrams. */
  watch(transport: TransportName, listening: () => boolean): void {
    this.listeners.set(transport, listening);
  }

  state(): ReadinessState {
    const transports: ReadinessState['transports'] = {};
    let listening = this.listeners.size > 0;
    for (const [transport, isListening] of this.listeners) {
      const up = isListening();
      transports[transport] = up ? 'listening' : 'closed';
      listening &&= up;
    }
    const draining = this.drain.draining;
    return { ready: listening && !draining, draining, transports };
  }
}
