import { Attempt } from './call-attempt';
import type { AttemptedCall, CallContext, StartCall } from './call-context';
import type { CallOptions } from './echo-client-options';
import type { Replica } from './replica';

/**
 * One call of `EchoClient`, as promises: each `attempt()` takes a connected replica (or waits for
 * one, per `whenDisconnected`), sends, and settles with the reply or the failure. The call's
 * timeout runs while an attempt is under way and ends at the first value, like rxjs's
 * `timeout({ first })`; a repeat (see `withRetry`) starts only within the time left. When it
 * expires, an attempt still waiting for a connection fails with `CONNECTION_FAILED`, and a sent one
 * with `TIMEOUT`: the sent packet's reply is no longer awaited and its connection's keeper is told.
 */
export class ClientCall<T> implements AttemptedCall<T> {
  /** Bounds the whole call: every attempt, the waits for a connection and between repeats. */
  readonly timeoutMs: number;
  /** When the call's time runs out; set by `startClock` for a call that may be repeated (a single attempt needs no clock). */
  private deadline: number | undefined;
  /** The replica the latest attempt was sent on, if it was: where a repeat should not go. */
  private sentOn: Replica | undefined;

  /**
   * @param start makes the call's packet on a proxy
   * @param emptyIsDone an event: done when handed to the connection, resolving with nothing (a request without a value fails with rxjs's `EmptyError`)
   */
  constructor(
    readonly context: CallContext,
    readonly pattern: string,
    readonly start: StartCall<T>,
    readonly options: CallOptions | undefined,
    readonly emptyIsDone: boolean,
  ) {
    this.timeoutMs = options?.timeoutMs ?? context.defaultTimeoutMs;
  }

  /** Starts the call's clock, before its first attempt: the repeats share what is left of its timeout. */
  startClock(): void {
    this.deadline = Date.now() + this.timeoutMs;
  }

  /** The replica the latest attempt was sent on; undefined if it failed before it was sent. */
  get failedOn(): Replica | undefined {
    return this.sentOn;
  }

  /** Whether the call may go to one replica only (`CallOptions.replica`). */
  get pinned(): boolean {
    return this.options?.replica !== undefined;
  }

  get remainingMs(): number {
    return this.deadline === undefined ? this.timeoutMs : this.deadline - Date.now();
  }

  /** One attempt: on a replica connected now (other than `avoid` if there is one), else once one is ready. */
  attempt(avoid?: Replica): Promise<T> {
    this.sentOn = undefined;
    return new Promise<T>((resolve, reject) => new Attempt(this, avoid, resolve, reject).begin(Math.max(0, this.remainingMs)));
  }

  /** Told by the attempt under way that it sent its packet on `replica`. */
  sent(replica: Replica): void {
    this.sentOn = replica;
  }
}
