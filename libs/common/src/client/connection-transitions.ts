import type { ConnectionState } from './connection-info';

/** What happens to a connection: each moves the keeper per `TRANSITIONS`. */
export type ConnectionEvent =
  /** `connect()`, or a call that needs the connection. */
  | 'connect'
  /** The reconnect backoff has elapsed. */
  | 'backoffElapsed'
  | 'opened'
  /** The attempt under way failed. */
  | 'failed'
  /** The open connection's socket closed (`ClientTCP` reports `disconnected`), or was destroyed as dead. */
  | 'dropped'
  | 'close';

/**
 * Every state change of a `ConnectionKeeper`, in one place: the state each event leads to from
 * each state. An event missing from a state's row changes nothing. Without reconnect,
 * `reconnecting` is `idle` (the next call makes the next attempt).
 */
export const TRANSITIONS: Readonly<Record<ConnectionState, Readonly<Partial<Record<ConnectionEvent, ConnectionState>>>>> = {
  idle: { connect: 'connecting', close: 'closed' },
  connecting: { opened: 'connected', failed: 'reconnecting', close: 'closed' },
  connected: { dropped: 'reconnecting', close: 'closed' },
  reconnecting: { connect: 'connecting', backoffElapsed: 'connecting', close: 'closed' },
  closed: {},
};
