import { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { BehaviorSubject, defer, filter, from, map, of, take, throwError, type Observable, type Subscription } from 'rxjs';
import { backoffDelayMs } from './backoff';
import type { ReconnectOptions, WhenDisconnected } from './echo-client-options';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';

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
  /** Why the last attempt failed or the connection dropped, if it did. */
  lastError?: RpcClientError;
}

/**
 * Keeps the connection of a Nest `ClientProxy` open. Stock `ClientTCP` only connects when a
 * call is made, so after a drop every call fails until one happens to reconnect. This keeper
 * watches the proxy's `status`, and after a drop or a failed attempt reconnects in the
 * background with capped, jittered exponential backoff until `close()`.
 * Hand-written rather than an rxjs `retry` pipeline: the state must be shared by every call
 * (each waits for, or fails fast on, the same connection), and it outlives any one call.
 */
export class ConnectionKeeper {
  private readonly logger = new Logger('EchoClient');
  private readonly state$ = new BehaviorSubject<ConnectionState>('idle');
  private attempt?: Promise<void>;
  private abandonAttempt?: (error: RpcClientError) => void;
  private timer?: NodeJS.Timeout;
  private statusSubscription?: Subscription;
  /** True from a drop or a failed attempt until the next connection. */
  private outage = false;
  private readonly counts = { attempts: 0, connects: 0, drops: 0, consecutiveFailures: 0 };
  private lastError?: RpcClientError;

  constructor(
    private readonly proxy: ClientProxy,
    private readonly policy: Required<ReconnectOptions>,
    /** `host:port`, for messages. */
    readonly target: string,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): ConnectionState {
    return this.state$.value;
  }

  info(): ConnectionInfo {
    return { state: this.state, ...this.counts, lastError: this.lastError };
  }

  /** Opens the connection now (cancelling a pending backoff); rejects with `CONNECTION_FAILED` if this attempt fails. */
  connect(): Promise<void> {
    switch (this.state) {
      case 'connected':
        return Promise.resolve();
      case 'closed':
        return Promise.reject(closedError('connect'));
      case 'connecting':
        return this.attempt!;
      default:
        return this.attemptNow();
    }
  }

  /**
   * Emits once when a call may be sent: at once when connected. Otherwise `'wait'` waits for
   * the (re)connection, without an end of its own: the caller bounds it by its timeout.
   * `'fail-fast'` fails with `CONNECTION_FAILED` during an outage, and joins the first connect.
   * Without reconnect, both make one attempt per call, as stock Nest does.
   */
  ready(mode: WhenDisconnected, pattern: string): Observable<void> {
    return defer(() => {
      const state = this.state;
      if (state === 'connected') {
        return of(undefined);
      }
      if (state === 'closed') {
        return throwError(() => closedError(pattern));
      }
      if (!this.policy.enabled) {
        return from(this.connect());
      }
      if (mode === 'fail-fast') {
        return this.outage ? throwError(() => this.notConnectedError(pattern)) : from(this.connect());
      }
      if (state === 'idle') {
        this.attemptNow().catch(() => undefined); // its outcome arrives through state$
      }
      return this.state$.pipe(
        filter((next) => next === 'connected' || next === 'closed'),
        take(1),
        map((next) => {
          if (next === 'closed') {
            throw closedError(pattern);
          }
        }),
      );
    });
  }

  /** Why a call could not be sent: for the error of a call that waited for a connection in vain. */
  notConnectedError(pattern: string, waitedMs?: number): RpcClientError {
    const { attempts, consecutiveFailures } = this.counts;
    const waited = waitedMs === undefined ? '' : ` within ${waitedMs} ms`;
    const last = this.lastError ? `; last error: ${this.lastError.message}` : '';
    return new RpcClientError({
      code: 'CONNECTION_FAILED',
      message: `not connected to ${this.target}${waited} (${this.state}, ${consecutiveFailures} failed of ${attempts} attempts${last})`,
      pattern,
      cause: this.lastError,
    });
  }

  close(): void {
    if (this.state === 'closed') {
      return;
    }
    clearTimeout(this.timer);
    this.statusSubscription?.unsubscribe();
    this.abandonAttempt?.(closedError('connect'));
    this.state$.next('closed');
    this.state$.complete();
  }

  private attemptNow(): Promise<void> {
    clearTimeout(this.timer);
    this.watchStatus();
    this.counts.attempts += 1;
    const attempt: Promise<void> = new Promise<void>((resolve, reject) => {
      this.abandonAttempt = reject;
      this.proxy.connect().then(resolve, (error: unknown) => reject(toRpcClientError(error, 'connect')));
    }).then(
      (): void => this.connected(attempt),
      (error: RpcClientError): never => {
        this.failed(attempt, error);
        throw error;
      },
    );
    this.attempt = attempt;
    this.state$.next('connecting');
    return attempt;
  }

  private connected(attempt: Promise<void>): void {
    if (this.attempt !== attempt || this.state === 'closed') {
      return;
    }
    if (this.outage) {
      this.logger.log(`reconnected to ${this.target} after ${this.counts.consecutiveFailures + 1} attempt(s)`);
    }
    this.outage = false;
    this.counts.connects += 1;
    this.counts.consecutiveFailures = 0;
    this.state$.next('connected');
  }

  private failed(attempt: Promise<void>, error: RpcClientError): void {
    if (this.attempt !== attempt || this.state === 'closed') {
      return;
    }
    this.outage = true;
    this.lastError = error;
    this.counts.consecutiveFailures += 1;
    this.scheduleReconnect();
  }

  /** ClientTCP reports `disconnected` when the socket of an open connection closes. */
  private watchStatus(): void {
    // `status` is a getter of every ClientProxy; a stand-in may lack it.
    this.statusSubscription ??= (this.proxy.status as Observable<string> | undefined)?.subscribe((status) => {
      if (status === 'disconnected' && this.state === 'connected') {
        this.counts.drops += 1;
        this.outage = true;
        this.lastError = new RpcClientError({ code: 'CONNECTION_LOST', message: `connection to ${this.target} lost`, pattern: 'connect' });
        this.logger.warn(`connection to ${this.target} lost${this.policy.enabled ? '; reconnecting' : ''}`);
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    if (!this.policy.enabled) {
      this.state$.next('idle');
      return;
    }
    const waitMs = backoffDelayMs(this.counts.consecutiveFailures + 1, this.policy, this.random);
    this.state$.next('reconnecting');
    // Unreferenced: a reconnecting client alone does not keep the process alive (calls waiting on it do, by their timeouts).
    this.timer = setTimeout(() => {
      this.attemptNow().catch(() => undefined); // its outcome arrives through state$
    }, waitMs).unref();
  }
}

function closedError(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'CONNECTION_CLOSED', message: 'the client is closed', pattern });
}
