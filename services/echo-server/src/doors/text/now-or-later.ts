/**
 * `next(value)` at once when `value` is there already, else once its promise settles: a door goes
 * on synchronously when a handler's pipeline ran synchronously, and only a promise suspends it.
 * Returns what `next` returned, or the promise of it.
 */
export function nowOrLater<T, R>(value: T | Promise<T>, next: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
