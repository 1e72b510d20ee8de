import { ParamsTokenFactory } from '@nestjs/core/internal';
import type { RpcParamOption } from './stock-rpc-context-creator';

/** One handler parameter with the pipes that apply to it (the handler's, then the parameter's own). */
interface PipedParam {
  readonly index: number;
  readonly extractValue: (...args: unknown[]) => unknown;
  readonly pipes: RpcParamOption['pipes'];
  readonly metatype?: unknown;
  readonly type: string;
  readonly data?: unknown;
  readonly schema?: unknown;
}

const tokens = new ParamsTokenFactory();

/**
 * The pipes of a handler's parameters, run as Nest's `RpcContextCreator` and `PipesConsumer` run
 * them (the handler's pipes, then the parameter's own, each with a new metadata object), without a
 * promise while each pipe answers synchronously.
 */
export class ParameterPipes {
  private readonly params: readonly PipedParam[];
  /** Pipe stages: stage 0 extracts a parameter and runs its first pipe, stage k its pipe k (see `apply`). */
  private readonly stages: number;

  constructor(params: readonly RpcParamOption[]) {
    this.params = params.map((param) => ({ ...param, type: tokens.exchangeEnumForString(param.type as number) }));
    this.stages = Math.max(1, ...this.params.map((param) => param.pipes.length));
  }

  /**
   * Fills the method's arguments through the pipes; a promise only once a pipe (or a parameter
   * decorator) returned one. Stock starts every parameter's pipes at once and awaits each pipe:
   * with synchronous pipes that runs stage by stage (each parameter's first pipe, then each one's
   * second...), and so does this, so pipes with side effects see the same order.
   */
  apply(callArgs: unknown[], args: unknown[]): Promise<void> | undefined {
    const params = this.params;
    const values = new Array<unknown>(params.length);
    for (let stage = 0; stage < this.stages; stage++) {
      for (let p = 0; p < params.length; p++) {
        let value: unknown;
        try {
          value = this.step(params[p], stage, values[p], args);
        } catch (error) {
          this.finishOthers(values, args, stage, p);
          throw error;
        }
        if (isThenable(value)) {
          return this.pipesLater(callArgs, args, values, stage, p, value);
        }
        values[p] = value;
      }
    }
    params.forEach((param, p) => (callArgs[param.index] = values[p]));
    return undefined;
  }

  /**
   * The pipes from where one returned a promise, as stock runs them: one chain per parameter, each
   * awaiting its every step; the parameters not yet through `stage` take that step now, the others
   * go on after a tick.
   */
  private async pipesLater(
    callArgs: unknown[],
    args: unknown[],
    values: unknown[],
    stage: number,
    p: number,
    pending: PromiseLike<unknown>,
  ): Promise<void> {
    const params = this.params;
    const chains = params.map((param, q) =>
      q > p ? this.chain(param, stage, values[q], args, false) : this.chain(param, stage + 1, q === p ? pending : values[q], args, true),
    );
    const results = await Promise.all(chains);
    params.forEach((param, q) => (callArgs[param.index] = results[q]));
  }

  /**
   * After parameter `failed`'s pipe threw at `stage`: the other parameters' remaining pipes, in
   * stock's order, since stock has started them all and does not stop them (their own errors are
   * dropped, as `Promise.all` drops all but the first); the call then fails with the first error.
   */
  private finishOthers(values: unknown[], args: unknown[], stage: number, failed: number): void {
    const params = this.params;
    const ended = params.map((_, q) => q === failed);
    for (let s = stage; s < this.stages; s++) {
      for (let q = s === stage ? failed + 1 : 0; q < params.length; q++) {
        if (ended[q]) {
          continue;
        }
        try {
          const value = this.step(params[q], s, values[q], args);
          if (isThenable(value)) {
            ended[q] = true;
            this.chain(params[q], s + 1, value, args, true).catch(() => undefined);
          }
          values[q] = value;
        } catch {
          ended[q] = true;
        }
      }
    }
  }

  private async chain(param: PipedParam, from: number, value: unknown, args: unknown[], awaitFirst: boolean): Promise<unknown> {
    let result = awaitFirst ? await value : value;
    for (let stage = from; stage < this.stages; stage++) {
      result = await this.step(param, stage, result, args);
    }
    return result;
  }

  /** Stage 0: the parameter's value (awaited first if its decorator made a promise, as stock does) through its first pipe. */
  private step(param: PipedParam, stage: number, value: unknown, args: unknown[]): unknown {
    if (stage > 0) {
      return stage < param.pipes.length ? param.pipes[stage].transform(value, metadataOf(param)) : value;
    }
    const extracted = param.extractValue(...args);
    if (param.pipes.length === 0) {
      return extracted;
    }
    if (isThenable(extracted)) {
      return Promise.resolve(extracted).then((resolved): unknown => {
        const piped: unknown = param.pipes[0].transform(resolved, metadataOf(param));
        return piped;
      });
    }
    return param.pipes[0].transform(extracted, metadataOf(param));
  }
}

/** A pipe's metadata, a new object per call as Nest's `PipesConsumer` makes. */
function metadataOf({ metatype, type, data, schema }: PipedParam): never {
  return { metatype, type, data, schema } as never;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  );
}
