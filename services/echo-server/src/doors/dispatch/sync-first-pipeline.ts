import type { CanActivate, NestInterceptor } from '@nestjs/common';
import { ExecutionContextHost, FORBIDDEN_MESSAGE } from '@nestjs/core/internal';
import { RpcException } from '@nestjs/microservices';
import { catchError, defer, from, isObservable, lastValueFrom, mergeAll, mergeMap, Observable, of, type ObservableInput } from 'rxjs';
import { EarlySubscription } from './early-subscription';
import { isThenable, ParameterPipes } from './parameter-pipes';
import type { RpcParamOption, StockRpcContextCreator } from './stock-rpc-context-creator';

/** What one handler's pipeline is made of, as Nest's `RpcContextCreator.create` gathers it. */
export interface PipelineParts {
  readonly instance: object;
  readonly callback: (...args: unknown[]) => unknown;
  readonly guards: CanActivate[];
  readonly interceptors: NestInterceptor[];
  readonly params: readonly RpcParamOption[] | null;
  readonly argsLength: number;
  readonly exceptionsHandler: unknown;
  readonly rpcProxy: StockRpcContextCreator['rpcProxy'];
  readonly reportUnhandledErrors: boolean;
}

/**
 * One handler's guards, pipes, interceptors, method and exception filters, run as Nest's
 * `RpcContextCreator` and `RpcProxy` run them, in the same order with the same arguments, but
 * without a promise while every step answers synchronously. `handle` returns the reply itself
 * when the whole pipeline ran synchronously; a promise from the first step that returns one (a
 * guard, pipe or method), continuing from there as stock does; an observable for a stream or an
 * error (what the exception filter made). Why: docs/performance.md.
 */
export class SyncFirstPipeline {
  private readonly pipes: ParameterPipes | null;

  constructor(private readonly parts: PipelineParts) {
    this.pipes = parts.params === null ? null : new ParameterPipes(parts.params);
  }

  readonly handle = (...args: unknown[]): unknown => {
    try {
      return this.guarded(args);
    } catch (error) {
      return this.failed(args, error);
    }
  };

  private guarded(args: unknown[]): unknown {
    const { guards } = this.parts;
    if (guards.length > 0) {
      const context = this.contextOf(args);
      for (let i = 0; i < guards.length; i++) {
        const verdict = guards[i].canActivate(context);
        if (isThenable(verdict) || isObservable(verdict)) {
          return this.later(
            args,
            this.guardsLater(context, i, verdict).then(() => this.intercepted(args)),
          );
        }
        if (!verdict) {
          throw new RpcException(FORBIDDEN_MESSAGE);
        }
      }
    }
    return this.settled(args, this.intercepted(args));
  }

  /** The rest of the guards once one answered with a promise or an observable, as Nest's `GuardsConsumer` runs them. */
  private async guardsLater(context: ExecutionContextHost, from: number, verdict: unknown): Promise<void> {
    const { guards } = this.parts;
    if (!(await pickResult(verdict))) {
      throw new RpcException(FORBIDDEN_MESSAGE);
    }
    for (let i = from + 1; i < guards.length; i++) {
      const next = guards[i].canActivate(context);
      if (typeof next === 'boolean' ? !next : !(await pickResult(next))) {
        throw new RpcException(FORBIDDEN_MESSAGE);
      }
    }
  }

  /** The interceptors around the method (an observable), or the method alone (a value, a promise or an observable). */
  private intercepted(args: unknown[]): unknown {
    const { interceptors } = this.parts;
    if (interceptors.length === 0) {
      return this.invoke(args);
    }
    const context = this.contextOf(args);
    const at = (i: number): Observable<unknown> => {
      if (i === interceptors.length) {
        return this.innermost(args);
      }
      const intercepted: unknown = interceptors[i].intercept(context, { handle: () => defer(() => at(i + 1)) });
      if (isObservable(intercepted)) {
        return intercepted;
      }
      // As stock's `mergeAll` over what the interceptor returned: a promise awaited, an array spread, a plain value a TypeError.
      const source: Observable<ObservableInput<unknown>> = isThenable(intercepted)
        ? from(intercepted as PromiseLike<ObservableInput<unknown>>)
        : of(intercepted as ObservableInput<unknown>);
      return source.pipe(mergeAll());
    };
    return at(0);
  }

  /** The method as the innermost interceptor's `next.handle()` sees it (Nest's `transformDeferred`), without its promise. */
  private innermost(args: unknown[]): Observable<unknown> {
    return new Observable((subscriber) => {
      let result: unknown;
      try {
        result = this.invoke(args);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      if (isObservable(result)) {
        return result.subscribe(subscriber);
      }
      if (isThenable(result)) {
        return from(result)
          .pipe(mergeMap((value) => (isObservable(value) ? value : of(value))))
          .subscribe(subscriber);
      }
      subscriber.next(result);
      subscriber.complete();
      return undefined;
    });
  }

  /** The pipes, then the method. */
  private invoke(args: unknown[]): unknown {
    const { instance, callback } = this.parts;
    if (this.pipes === null) {
      return callback.apply(instance, args);
    }
    const callArgs = new Array<unknown>(this.parts.argsLength).fill(undefined);
    const pending = this.pipes.apply(callArgs, args);
    return pending === undefined ? callback.apply(instance, callArgs) : pending.then(() => callback.apply(instance, callArgs));
  }

  /**
   * Nest's `RpcProxy` on a result: a stream's errors go through the exception filters. A stream is
   * subscribed now, as the transport would subscribe it, and read at once if it settled
   * synchronously with one value: the transport sends that as it sends a plain value.
   */
  private settled(args: unknown[], result: unknown): unknown {
    if (isThenable(result)) {
      return this.later(args, result);
    }
    if (!isObservable(result)) {
      return result;
    }
    const early = new EarlySubscription(this.caught(args, result));
    const single = early.single();
    return single !== undefined && !isThenable(single.value) && !isObservable(single.value) ? single.value : early.stream();
  }

  private caught(args: unknown[], stream: Observable<unknown>): Observable<unknown> {
    return stream.pipe(catchError((error: unknown) => this.failedStream(args, error)));
  }

  private later(args: unknown[], result: PromiseLike<unknown>): Promise<unknown> {
    return Promise.resolve(result).then(
      (value) => (isObservable(value) ? this.caught(args, value) : value),
      (error: unknown) => this.failed(args, error),
    );
  }

  /** The exception filters' answer to `error`: an observable; a promise that rejects if they throw (stock's proxy is async). */
  private failed(args: unknown[], error: unknown): unknown {
    try {
      return this.failedStream(args, error);
    } catch (thrown) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(thrown);
    }
  }

  private failedStream(args: unknown[], error: unknown): Observable<unknown> {
    const { rpcProxy, exceptionsHandler, reportUnhandledErrors } = this.parts;
    return rpcProxy.handleError(exceptionsHandler, args, error, reportUnhandledErrors);
  }

  /** A new context per consumer, as Nest's guards and interceptors consumers each make their own. */
  private contextOf(args: unknown[]): ExecutionContextHost {
    const context = new ExecutionContextHost(args, this.parts.instance.constructor as never, this.parts.callback);
    context.setType('rpc');
    return context;
  }
}

/** Nest's `GuardsConsumer.pickResult`. */
async function pickResult(result: unknown): Promise<unknown> {
  const value: unknown = await result;
  return isObservable(value) ? lastValueFrom(value) : value;
}
