import type { CanActivate, NestInterceptor, PipeTransform } from '@nestjs/common';
import type { Observable } from 'rxjs';

/** A handler as Nest's RpcContextCreator builds it: always async. */
type StockRpcHandler = (...args: unknown[]) => Promise<unknown>;

/** One parameter of a handler, as Nest's RpcContextCreator describes it (`getParamsMetadata`, `mergeParamsMetatypes`). */
export interface RpcParamOption {
  index: number;
  type: number | string;
  data?: unknown;
  metatype?: unknown;
  schema?: unknown;
  pipes: PipeTransform[];
  extractValue(...args: unknown[]): unknown;
}

/** What Nest's context creators build per handler, with its own arguments. */
type PerHandler<T> = (instance: object, callback: RpcCallback, moduleKey: string, contextId?: unknown, inquirerId?: string) => T;

/** A controller's handler method. */
type RpcCallback = (...args: never[]) => unknown;

/**
 * The members of Nest's `RpcContextCreator` that the synchronous dispatch reads. Its typings
 * declare them private; they are public at run time (Nest 12.1). `isStockRpcContextCreator` checks
 * them all when the dispatch is installed, so an upgrade that renames one fails the start-up
 * (and the spec), not a request.
 */
export interface StockRpcContextCreator {
  create(
    instance: object,
    callback: RpcCallback,
    moduleKey: string,
    methodName: string,
    contextId?: unknown,
    inquirerId?: string,
    defaultCallMetadata?: Record<string, unknown>,
    reportUnhandledErrors?: boolean,
  ): StockRpcHandler;
  readonly rpcProxy: {
    handleError(handler: unknown, args: unknown[], error: unknown, reportUnhandledErrors?: boolean): Observable<unknown>;
  };
  readonly exceptionFiltersContext: { create: PerHandler<unknown> };
  readonly pipesContextCreator: { create: PerHandler<PipeTransform[]> };
  readonly guardsContextCreator: { create: PerHandler<CanActivate[]> };
  readonly interceptorsContextCreator: { create: PerHandler<NestInterceptor[]> };
  readonly applicationConfig?: { getGlobalPreRequestHooks(): readonly unknown[] };
  readonly contextUtils: { mergeParamsMetatypes(params: RpcParamOption[], paramtypes: unknown[] | undefined): RpcParamOption[] };
  getMetadata(
    instance: object,
    methodName: string,
    defaultCallMetadata: Record<string, unknown>,
    contextType: 'rpc',
  ): { argsLength: number; paramtypes: unknown[] | undefined; getParamsMetadata: (moduleKey: string) => RpcParamOption[] | undefined };
}

const CREATORS = ['exceptionFiltersContext', 'pipesContextCreator', 'guardsContextCreator', 'interceptorsContextCreator'] as const;

/** Whether `value` has every member `StockRpcContextCreator` names, with the right kind. */
export function isStockRpcContextCreator(value: unknown): value is StockRpcContextCreator {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const creator = value as Record<string, { [member: string]: unknown } | undefined>;
  return (
    typeof creator.create === 'function' &&
    typeof creator.getMetadata === 'function' &&
    typeof creator.rpcProxy?.handleError === 'function' &&
    typeof creator.contextUtils?.mergeParamsMetatypes === 'function' &&
    CREATORS.every((name) => typeof creator[name]?.create === 'function') &&
    (creator.applicationConfig === undefined || typeof creator.applicationConfig.getGlobalPreRequestHooks === 'function')
  );
}
