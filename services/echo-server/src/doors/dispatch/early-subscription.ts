import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';

/** How the source ended, while nobody was subscribed downstream yet. */
type Ending = { failed: false } | { failed: true; error: unknown };

/**
 * Subscribes to a stream at once and keeps what it emits until one subscriber takes it over
 * (`stream()`), so that a stream that settles synchronously can be read there and then
 * (`single()`) while one that does not is handed on whole, neither run twice nor missed.
 */
export class EarlySubscription<T> implements Observer<T> {
  private buffered: T[] = [];
  private ending: Ending | undefined;
  private downstream: Subscriber<T> | undefined;
  private readonly subscription: Subscription;

  constructor(source: Observable<T>) {
    this.subscription = source.subscribe(this);
  }

  /** The value, if the source emitted exactly one and completed, all before any subscriber came. */
  single(): { value: T } | undefined {
    return this.ending?.failed === false && this.buffered.length === 1 ? { value: this.buffered[0] } : undefined;
  }

  /** What the source emitted so far, then the rest as it comes; for one subscriber. */
  stream(): Observable<T> {
    return new Observable<T>((subscriber) => {
      const buffered = this.buffered;
      this.buffered = [];
      buffered.forEach((value) => subscriber.next(value));
      if (this.ending === undefined) {
        this.downstream = subscriber;
      } else if (this.ending.failed) {
        subscriber.error(this.ending.error);
      } else {
        subscriber.complete();
      }
      return () => {
        this.downstream = undefined;
        this.subscription.unsubscribe();
      };
    });
  }

  next(value: T): void {
    if (this.downstream === undefined) {
      this.buffered.push(value);
    } else {
      this.downstream.next(value);
    }
  }

  error(error: unknown): void {
    if (this.downstream === undefined) {
      this.ending = { failed: true, error };
    } else {
      this.downstream.error(error);
    }
  }

  complete(): void {
    if (this.downstream === undefined) {
      this.ending = { failed: false };
    } else {
      this.downstream.complete();
    }
  }
}
