import type { CustomStrategy } from '@nestjs/microservices';
import type { TransportName } from '@echo-pair/common';

/** One transport the server serves: connected to the application, counted by the drain, watched by `/readyz`. */
export interface ServedTransport {
  readonly name: TransportName;
  readonly strategy: CustomStrategy['strategy'];
  /** Whether it still accepts connections (or datagrams), asked when probed. */
  readonly listening: () => boolean;
  /** Stops accepting connections, leaving the open ones be; absent for UDP, which has none to refuse. */
  readonly stopAccepting?: () => void;
}

/** The transports the server serves, in the order they are connected: TCP, then the text gateway and UDP unless disabled. */
export const SERVED_TRANSPORTS = Symbol('SERVED_TRANSPORTS');
