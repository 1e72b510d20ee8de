import type { ClientProxy } from '@nestjs/microservices';
import { EmptyError, type Observable, type Subscription } from 'rxjs';
import type { WhenDisconnected } from './echo-client-options';
import type { Replica, ReplicaSet } from './replica-set';
import { RpcClientError } from './rpc-client.error';

/** Makes a call's packet on a proxy (`proxy.send` or `proxy.emit`, in the call's trace context). */
export type StartCall<T> = (proxy: ClientProxy) => Observable<T>;

export interface ClientCallSettings<T> {
  pattern: string;
  start: StartCall<T>;
  /** Bounds the whole call: every attempt, the waits for a connection and between repeats. */
  timeoutMs: number;
  whenDisconnected: WhenDisconnected;
  /** The only replica the call may go to (`CallOptions.replica`). */
  replica?: string;
  /** An event: done when handed to the connection, resolving with nothing. A request without a value fails with rxjs's `EmptyError`. */
  emptyIsDone: boolean;
  replicas: ReplicaSet;
  /** Maps whatever an attempt failed with to the client's error. */
  toError: (error: unknown, pattern: string) => RpcClientError;
}

/**
 * One call of `EchoClient`, as promises: each `attempt()` takes a connected replica (or waits for
 * one, per `whenDisconnected`), sends, and settles with the reply or the failure. The call's
 * timeout runs while an attempt is under way and ends at the first value, like rxjs's
 * `timeout({ first })`; a repeat (see `withRetry`) starts only within the time left. When it
 * expires, an attempt still waiting for a connection fails with `CONNECTION_FAILED`, and a sent one
 * with `TIMEOUT`: the sent packet's reply is no longer awaited and its connection's keeper is told.
 */
export class ClientCall<T> {
  private readonly deadline: number;
  /** Whether the latest attempt was sent (and on which replica): where a repeat should not go. */
  private sentOn: Replica | undefined;

  constructor(private readonly settings: ClientCallSettings<T>) {
    this.deadline = Date.now() + settings.timeoutMs;
  }

  /** The replica the latest attempt was sent on; undefined if it failed before it was sent. */
  get failedOn(): Replica | undefined {
    return this.sentOn;
  }

  get remainingMs(): number {
    return this.deadline - Date.now();
  }

  /** One attempt: on a replica connected now (other than `avoid` if there is one), else once one is ready. */
  attempt(avoid?: Replica): Promise<T> {
    const { replicas, replica: pinned } = this.settings;
    this.sentOn = undefined;
    const picked = pinned === undefined ? replicas.pick(avoid) : undefined;
    return new Promise<T>((resolve, reject) => {
      /** The wait for a replica, then the sent packet's reply: what a timeout cancels. */
      const under: { waiting?: Subscription; sending?: Subscription } = {};
      let sentOn: Replica | undefined;
      let done = false;
      const timer = setTimeout(
        () => {
          done = true;
          under.waiting?.unsubscribe();
          under.sending?.unsubscribe();
          if (sentOn === undefined) {
            reject(replicas.notConnectedError(this.settings.pattern, this.settings.timeoutMs));
            return;
          }
          replicas.record(sentOn, 'TIMEOUT');
          replicas.release(sentOn);
          reject(timeoutError(this.settings.pattern, this.settings.timeoutMs));
          sentOn.keeper.callTimedOut();
        },
        Math.max(0, this.remainingMs),
      );
      const fail = (error: unknown): void => {
        done = true;
        clearTimeout(timer);
        const mapped = this.settings.toError(error, this.settings.pattern);
        if (sentOn !== undefined) {
          replicas.record(sentOn, mapped.code);
          replicas.release(sentOn);
        }
        reject(mapped);
      };
      const send = (replica: Replica): void => {
        sentOn = replica;
        this.sentOn = replica;
        replicas.sent(replica);
        let last: T | undefined;
        let hasValue = false;
        try {
          under.sending = this.settings.start(replica.proxy).subscribe({
            next: (value) => {
              if (!hasValue) {
                clearTimeout(timer);
                hasValue = true;
              }
              last = value;
            },
            error: fail,
            complete: () => {
              done = true;
              clearTimeout(timer);
              replicas.record(replica);
              replicas.release(replica);
              if (this.settings.emptyIsDone) {
                resolve(undefined as T);
              } else if (hasValue) {
                resolve(last as T);
              } else {
                reject(new EmptyError());
              }
            },
          });
        } catch (error) {
          fail(error);
        }
      };
      if (picked !== undefined) {
        send(picked);
        return;
      }
      // `ready` emits once (synchronously when a replica is connected), then completes.
      under.waiting = replicas.ready(this.settings.whenDisconnected, this.settings.pattern, avoid, pinned).subscribe({
        next: (ready) => {
          if (!done) {
            send(ready);
          }
        },
        error: fail,
      });
    });
  }
}

export function timeoutError(pattern: string, timeoutMs: number): RpcClientError {
  return new RpcClientError({ code: 'TIMEOUT', message: `no reply to "${pattern}" within ${timeoutMs} ms`, pattern });
}
