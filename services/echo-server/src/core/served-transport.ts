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
  /** The port actually bound, once listening (the real one when configured as 0). */
  readonly port: () => number;
  /** The start-up log line that says where it listens, once listening. */
  readonly listeningLine: () => string;
}

/** The transports the server serves, in the order they are connected: TCP, then the optional doors enabled. */
export const SERVED_TRANSPORTS = Symbol('SERVED_TRANSPORTS');

/** The HTTP side port's address, provided by the module that serves routes on it (metrics and probes). */
export interface HttpSidePort {
  readonly host: string;
  readonly port: number;
}

export const HTTP_SIDE_PORT = Symbol('HTTP_SIDE_PORT');
