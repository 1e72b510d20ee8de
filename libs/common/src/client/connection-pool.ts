import type { ClientProxy } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type { ConnectFailure, EchoClientConnectionInfo } from './connection-info';
import type { HostResolver, ReconnectOptions, WhenDisconnected } from './echo-client-options';
import type { Replica } from './replica';
import type { RpcClientError, RpcClientErrorCode } from './rpc-client.error';

/**
 * The connections of an `EchoClient`, and the choice of one per call: `SingleConnectionPool` (one
 * address), or the balanced pool of `client/balancing/` (every address a name resolves to).
 */
export interface ConnectionPool {
  /** Whether it resolves a name (and so balances), rather than holding one fixed replica. */
  readonly resolvesName: boolean;
  /** The proxy of a single pool (for what only a single transport has, such as UDP's datagram limit). */
  readonly fixedProxy: ClientProxy | undefined;
  /** Every failed connect attempt (and, for a name, every failed resolution), until `close()`. */
  readonly failures: Observable<ConnectFailure>;
  /** The replica for a call now, if one is connected, preferring one other than `avoid`. */
  pick(avoid?: Replica): Replica | undefined;
  /** Whether a replica other than `failed` could take a call now: a repeat can go there at once. */
  hasAlternative(failed: Replica | undefined): boolean;
  /**
   * Emits once the replica for a call: at once if one is connected; otherwise `'wait'` waits for
   * one and `'fail-fast'` fails with `CONNECTION_FAILED` during an outage. With `replica`, only that one.
   */
  ready(mode: WhenDisconnected, pattern: string, avoid?: Replica, replica?: string): Observable<Replica>;
  /** A call was sent on `member`. */
  sent(member: Replica): void;
  /** How a call sent on `member` ended: with a reply (`failure` undefined, or a code the server replied with), or a transport failure. */
  record(member: Replica, failure?: RpcClientErrorCode): void;
  /** A call sent on `member` is over (replied, failed or timed out). */
  release(member: Replica): void;
  /** Why a call could not be sent: for the error of a call that waited for a connection in vain. */
  notConnectedError(pattern: string, waitedMs?: number): RpcClientError;
  /** Opens a connection now; rejects with `CONNECTION_FAILED` if this attempt fails. */
  connect(): Promise<void>;
  info(): EchoClientConnectionInfo;
  /** Ends every connection; calls still waiting fail with `CONNECTION_CLOSED`. */
  close(): Promise<void>;
}

/** How a balanced client reaches the replicas behind its name: a proxy per address. */
export interface ReplicaDiscovery {
  /** A proxy that connects to this one address (an IP address `resolver` returned). */
  createProxy(address: string): ClientProxy;
}

/** The settings of a pool of the replicas behind a name. */
export interface ReplicaPoolSettings {
  host: string;
  port: number;
  policy: Required<ReconnectOptions>;
  random: () => number;
  /** See `EchoClientOptions.deadAfterTimeouts`, for each replica's connection. */
  deadAfterTimeouts: number;
  /** See `EchoClientOptions.resolveIntervalMs`. */
  resolveIntervalMs: number;
  /** See `EchoClientOptions.resolver`; undefined for the system's resolver. */
  resolver: HostResolver | undefined;
  /** A retiring replica still busy after this long is closed anyway (its calls fail with CONNECTION_LOST). */
  retireAfterMs: number;
}
