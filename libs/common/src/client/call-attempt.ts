import { EmptyError, type Observer, type Subscription } from 'rxjs';
import type { AttemptedCall } from './call-context';
import { timeoutError } from './client-errors';
import type { Replica } from './replica';

/**
 * One attempt of a call, the observer of its packet's reply: an object rather than closures, as
 * every call makes one. It settles its promise once: with the reply, the failure, or the timeout.
 */
export class Attempt<T> implements Observer<T> {
  private waiting: Subscription | undefined;
  private sending: Subscription | undefined;
  private sentOn: Replica | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  private hasValue = false;
  private last: T | undefined;

  constructor(
    private readonly call: AttemptedCall<T>,
    private readonly avoid: Replica | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  begin(timeoutMs: number): void {
    const { replicas, whenDisconnected } = this.call.context;
    const pinned = this.call.options?.replica;
    this.timer = setTimeout(expire, timeoutMs, this);
    const picked = pinned === undefined ? replicas.pick(this.avoid) : undefined;
    if (picked !== undefined) {
      this.send(picked);
      return;
    }
    // `ready` emits once (synchronously when a replica is connected), then completes.
    this.waiting = replicas
      .ready(this.call.options?.whenDisconnected ?? whenDisconnected, this.call.pattern, this.avoid, pinned)
      .subscribe({
        next: (ready) => {
          if (!this.done) {
            this.send(ready);
          }
        },
        error: (error: unknown) => this.error(error),
      });
  }

  next(value: T): void {
    if (!this.hasValue) {
      clearTimeout(this.timer);
      this.hasValue = true;
    }
    this.last = value;
  }

  error(error: unknown): void {
    this.done = true;
    clearTimeout(this.timer);
    const mapped = this.call.context.toError(error, this.call.pattern);
    if (this.sentOn !== undefined) {
      this.call.context.replicas.record(this.sentOn, mapped.code);
      this.call.context.replicas.release(this.sentOn);
    }
    this.reject(mapped);
  }

  complete(): void {
    this.done = true;
    clearTimeout(this.timer);
    const { replicas } = this.call.context;
    replicas.record(this.sentOn!);
    replicas.release(this.sentOn!);
    if (this.call.emptyIsDone) {
      this.resolve(undefined as T);
    } else if (this.hasValue) {
      this.resolve(this.last as T);
    } else {
      this.reject(new EmptyError());
    }
  }

  /** The call's time ran out during this attempt. */
  expired(): void {
    this.done = true;
    this.waiting?.unsubscribe();
    this.sending?.unsubscribe();
    const { replicas } = this.call.context;
    const { pattern, timeoutMs } = this.call;
    const sentOn = this.sentOn;
    if (sentOn === undefined) {
      this.reject(replicas.notConnectedError(pattern, timeoutMs));
      return;
    }
    replicas.record(sentOn, 'TIMEOUT');
    replicas.release(sentOn);
    this.reject(timeoutError(pattern, timeoutMs));
    sentOn.keeper.callTimedOut();
  }

  private send(replica: Replica): void {
    this.sentOn = replica;
    this.call.sent(replica);
    this.call.context.replicas.sent(replica);
    try {
      this.sending = this.call.start(replica.proxy).subscribe(this);
    } catch (error) {
      this.error(error);
    }
  }
}

/** The timer's callback, given its attempt as an argument: no closure per attempt. */
function expire(attempt: { expired(): void }): void {
  attempt.expired();
}
