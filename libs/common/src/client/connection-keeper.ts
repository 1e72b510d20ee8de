import { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { BehaviorSubject, defer, filter, from, map, of, Subject, take, throwError, type Observable, type Subscription } from 'rxjs';
import { backoffDelayMs } from './backoff';
import { closedError } from './client-errors';
import type { ConnectFailure, ConnectionInfo, ConnectionState } from './connection-info';
import { TRANSITIONS, type ConnectionEvent } from './connection-transitions';
import type { ReconnectOptions, WhenDisconnected } from './echo-client-options';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';

/**
 * Keeps the connection of a Nest `ClientProxy` open: it watches the proxy's `status`, and after a
 * drop or a failed attempt reconnects in the background with capped, jittered exponential backoff
 * until `close()`. Its states and what moves them are the table `TRANSITIONS`; `move` is the only
 * place a state changes. Every call of the client waits for, or fails fast on, its one state.
 */
export class ConnectionKeeper {
  private readonly logger = new Logger('EchoClient');
  private readonly state$ = new BehaviorSubject<ConnectionState>('idle');
  private readonly failures$ = new Subject<ConnectFailure>();
  private attempt?: Promise<void>;
  private abandonAttempt?: (error: RpcClientError) => void;
  private backoffTimer?: NodeJS.Timeout;
  private statusSubscription?: Subscription;
  /** True from a drop or a failed attempt until the next connection. */
  private outage = false;
  private readonly counts = { attempts: 0, connects: 0, drops: 0, consecutiveFailures: 0, consecutiveTimeouts: 0, deadConnections: 0 };
  /**
   * Failures that set the next backoff wait: failed attempts, and connections dropped before they
   * proved healthy. Unlike `consecutiveFailures` it is not reset by a connect, only by a healthy connection.
   */
  private backoffFailures = 0;
  private lastError?: RpcClientError;
  /** The socket of the current connection, when the proxy exposes one (a stand-in may not). */
  private socket?: Socket;
  private connectedAt = 0;
  /** `socket.bytesRead` at the last timeout: a timeout that finds it unchanged continues the streak. */
  private bytesReadAtTimeout = 0;
  /** Set when the keeper destroyed the connection itself, so that its drop is not reported again. */
  private declaredDead = false;

  constructor(
    private readonly proxy: ClientProxy,
    private readonly policy: Required<ReconnectOptions>,
    /** `host:port`, for messages; a balanced pool relabels its replicas as they come and go. */
    public target: string,
    private readonly random: () => number = Math.random,
    /** See `EchoClientOptions.deadAfterTimeouts`; 0 turns the rule off. */
    private readonly deadAfterTimeouts = 0,
  ) {}

  get state(): ConnectionState {
    return this.state$.value;
  }

  /** The state now and every change of it, until `close()`. */
  get changes(): Observable<ConnectionState> {
    return this.state$.asObservable();
  }

  /** Every failed connect attempt, until `close()`: for progress reports (a worker waiting for its server). */
  get failures(): Observable<ConnectFailure> {
    return this.failures$.asObservable();
  }

  /** True from a drop or a failed attempt until the next connection: what `'fail-fast'` fails on. */
  get inOutage(): boolean {
    return this.outage;
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
        return this.startAttempt('connect');
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
        this.startAttempt('connect').catch(() => undefined); // its outcome arrives through state$
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

  /**
   * A call sent on the current connection timed out (`socket.bytesRead` is read on this path only).
   * Once `deadAfterTimeouts` timeouts in a row found nothing received, the socket is destroyed:
   * the calls in flight fail with CONNECTION_LOST, and the reconnect takes over.
   */
  callTimedOut(): void {
    const socket = this.socket;
    if (this.deadAfterTimeouts <= 0 || this.state !== 'connected' || socket === undefined || socket.destroyed) {
      return;
    }
    const bytesRead = socket.bytesRead;
    this.counts.consecutiveTimeouts = bytesRead === this.bytesReadAtTimeout ? this.counts.consecutiveTimeouts + 1 : 1;
    this.bytesReadAtTimeout = bytesRead;
    if (this.counts.consecutiveTimeouts < this.deadAfterTimeouts) {
      return;
    }
    const timeouts = this.counts.consecutiveTimeouts;
    this.counts.deadConnections += 1;
    this.declaredDead = true;
    this.lastError = new RpcClientError({
      code: 'CONNECTION_LOST',
      message: `connection to ${this.target} considered dead after ${timeouts} timeouts with nothing received`,
      pattern: 'connect',
    });
    this.logger.warn(
      `connection to ${this.target} considered dead after ${timeouts} timeouts${this.policy.enabled ? '; reconnecting' : ''}`,
    );
    socket.destroy();
  }

  close(): void {
    if (!this.can('close')) {
      return;
    }
    clearTimeout(this.backoffTimer);
    this.statusSubscription?.unsubscribe();
    this.abandonAttempt?.(closedError('connect'));
    this.move('close');
    this.state$.complete();
    this.failures$.complete();
  }

  /** `connect` or `backoffElapsed`: a new attempt, the keeper `connecting` until it ends. */
  private startAttempt(event: 'connect' | 'backoffElapsed'): Promise<void> {
    clearTimeout(this.backoffTimer);
    this.watchStatus();
    this.counts.attempts += 1;
    const attempt: Promise<void> = new Promise<void>((resolve, reject) => {
      this.abandonAttempt = reject;
      this.proxy.connect().then(resolve, (error: unknown) => reject(toRpcClientError(error, 'connect')));
    }).then(
      (): void => this.opened(attempt),
      (error: RpcClientError): never => {
        this.failed(attempt, error);
        throw error;
      },
    );
    this.attempt = attempt;
    this.move(event);
    return attempt;
  }

  private opened(attempt: Promise<void>): void {
    if (this.attempt !== attempt || !this.can('opened')) {
      return;
    }
    if (this.outage) {
      this.logger.log(`reconnected to ${this.target} after ${this.counts.consecutiveFailures + 1} attempt(s)`);
    }
    this.outage = false;
    this.counts.connects += 1;
    this.counts.consecutiveFailures = 0;
    this.counts.consecutiveTimeouts = 0;
    this.socket = this.currentSocket();
    this.bytesReadAtTimeout = this.socket?.bytesRead ?? 0;
    this.connectedAt = Date.now();
    this.declaredDead = false;
    this.move('opened');
  }

  private failed(attempt: Promise<void>, error: RpcClientError): void {
    if (this.attempt !== attempt || !this.can('failed')) {
      return;
    }
    this.outage = true;
    this.lastError = error;
    this.counts.consecutiveFailures += 1;
    this.backoffFailures += 1;
    const retryInMs = this.move('failed');
    this.failures$.next({ target: this.target, error, consecutiveFailures: this.counts.consecutiveFailures, retryInMs });
  }

  private dropped(): void {
    if (!this.can('dropped')) {
      return;
    }
    this.counts.drops += 1;
    this.outage = true;
    this.backoffFailures = this.provedHealthy() ? 0 : this.backoffFailures + 1;
    this.socket = undefined;
    if (!this.declaredDead) {
      this.lastError = new RpcClientError({ code: 'CONNECTION_LOST', message: `connection to ${this.target} lost`, pattern: 'connect' });
      this.logger.warn(`connection to ${this.target} lost${this.policy.enabled ? '; reconnecting' : ''}`);
    }
    this.move('dropped');
  }

  private can(event: ConnectionEvent): boolean {
    return TRANSITIONS[this.state][event] !== undefined;
  }

  /**
   * Moves to the state `event` leads to (see `TRANSITIONS`) and tells `changes`. Entering
   * `reconnecting` schedules the next attempt: returns in how many milliseconds.
   */
  private move(event: ConnectionEvent): number | undefined {
    const next = TRANSITIONS[this.state][event];
    if (next === undefined) {
      return undefined;
    }
    if (next !== 'reconnecting') {
      this.state$.next(next);
      return undefined;
    }
    if (!this.policy.enabled) {
      this.state$.next('idle');
      return undefined;
    }
    const waitMs = backoffDelayMs(this.backoffFailures + 1, this.policy, this.random);
    this.state$.next('reconnecting');
    // Unreferenced: a reconnecting client alone does not keep the process alive (calls waiting on it do, by their timeouts).
    this.backoffTimer = setTimeout(() => {
      this.startAttempt('backoffElapsed').catch(() => undefined); // its outcome arrives through state$
    }, waitMs).unref();
    return waitMs;
  }

  /** ClientTCP reports `disconnected` when the socket of an open connection closes. */
  private watchStatus(): void {
    // `status` is a getter of every ClientProxy; a stand-in may lack it.
    this.statusSubscription ??= (this.proxy.status as Observable<string> | undefined)?.subscribe((status) => {
      if (status === 'disconnected') {
        this.dropped();
      }
    });
  }

  /** Whether the connection that just dropped carried a reply (anything received), or lasted `healthyAfterMs`. */
  private provedHealthy(): boolean {
    return (this.socket?.bytesRead ?? 0) > 0 || Date.now() - this.connectedAt >= this.policy.healthyAfterMs;
  }

  private currentSocket(): Socket | undefined {
    try {
      return this.proxy.unwrap<Socket>();
    } catch {
      return undefined; // a stand-in without a socket
    }
  }
}
