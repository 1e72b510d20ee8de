import type { RpcClientError } from './rpc-client.error';

/**
 * - `idle`: no connection and none being opened (before the first call, or after a failure without reconnect);
 * - `connecting`: an attempt is under way;
 * - `connected`;
 * - `reconnecting`: the connection dropped or an attempt failed; the next attempt waits for its backoff;
 * - `closed`: `close()` was called; nothing is attempted any more.
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ConnectionInfo {
  state: ConnectionState;
  /** Connect attempts made, the first included. */
  attempts: number;
  /** Attempts that succeeded. */
  connects: number;
  /** Connections that dropped while in use. */
  drops: number;
  /** Failed attempts since the last connection (or since the start). */
  consecutiveFailures: number;
  /** Calls in a row that timed out on the current connection with nothing received on it in between. */
  consecutiveTimeouts: number;
  /** Connections destroyed because calls kept timing out on them with nothing received (see `deadAfterTimeouts`). */
  deadConnections: number;
  /** Why the last attempt failed or the connection dropped, if it did. */
  lastError?: RpcClientError;
}

/** A connect attempt that failed, as `ConnectionKeeper.failures` reports it. */
export interface ConnectFailure {
  /** `host:port` of the connection. */
  target: string;
  error: RpcClientError;
  /** Failed attempts since the last connection, this one included. */
  consecutiveFailures: number;
  /** When the next attempt starts, in milliseconds; undefined without reconnect (the next call makes it). */
  retryInMs?: number;
}

/** One replica as `connectionInfo()` reports it: its connection's state and counters, and the calls it carried. */
export interface ReplicaInfo extends ConnectionInfo {
  /** The address its connection goes to: an IP address the name resolved to, or the host as given. */
  address: string;
  /** Calls sent on it now, awaiting their reply. */
  inFlight: number;
  /** Calls sent on it (requests and events), whatever their outcome. */
  calls: number;
  /** Calls of those that failed on the transport: lost, timed out, not connected, or refused by a draining server (`SHUTTING_DOWN`). */
  failures: number;
  /**
   * Set aside after a failure (a drop, a failed connect, a call timed out) while other replicas can
   * serve: chosen only when none of them can, until its backoff ends or it replies.
   */
  ejected: boolean;
  /** It answered `SHUTTING_DOWN`: set aside like an ejected one until it connects again. */
  draining: boolean;
  /** Gone from the name's addresses: it gets no new call, and is closed once its calls in flight have ended. */
  retiring: boolean;
}

/** How the name of a balanced client resolved. */
export interface ResolutionInfo {
  host: string;
  /** Resolutions that succeeded. */
  resolves: number;
  /** Resolutions that failed in a row, since the last that succeeded. */
  consecutiveFailures: number;
  lastError?: RpcClientError;
}

/**
 * The state of a client's connections. The fields of `ConnectionInfo` describe the client as a
 * whole; with one replica they are exactly that replica's. With several: `state` is the best of
 * theirs (connected if any is), the counters are summed over every replica the client has had,
 * `consecutiveFailures` and `consecutiveTimeouts` are those of the replica with the fewest (0 while
 * any is connected and answering), and `lastError` is the last failure of any.
 */
export interface EchoClientConnectionInfo extends ConnectionInfo {
  replicas: ReplicaInfo[];
  /** When `host` is a name that the client resolves (TCP). */
  resolution?: ResolutionInfo;
}
