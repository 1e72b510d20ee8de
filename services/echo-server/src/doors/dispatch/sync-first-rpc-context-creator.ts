import type { INestMicroservice } from '@nestjs/common';
import { NestMicroservice } from '@nestjs/microservices';
import { PATTERN_HANDLER_METADATA } from '@nestjs/microservices/constants';
import { DEFAULT_CALLBACK_METADATA } from '@nestjs/microservices/context/rpc-metadata-constants';
import { SyncFirstPipeline } from './sync-first-pipeline';
import { isStockRpcContextCreator, type StockRpcContextCreator } from './stock-rpc-context-creator';

/** Nest's `PatternHandler.MESSAGE`, as its decorators store it (`@MessagePattern`; events are 2). */
const MESSAGE_HANDLER = 1;

/** A handler as this creator builds it: its reply itself when its pipeline ran synchronously, else a promise or an observable. */
type SyncFirstHandler = (...args: unknown[]) => unknown;

/**
 * Builds each request handler of a microservice as Nest's `RpcContextCreator` does, from the same
 * guards, pipes, interceptors and exception filters, but as a `SyncFirstPipeline`: no promise
 * while every step answers synchronously. Event handlers, and every handler while global
 * pre-request hooks (Nest 12) are registered, are left to Nest: the handlers of one event are
 * joined by Nest, and which of them run how far when one fails depends on each being
 * asynchronous. Installed by `installSyncFirstDispatch` unless ECHO_FAST_PATH=false.
 */
class SyncFirstRpcContextCreator {
  constructor(private readonly stock: StockRpcContextCreator) {}

  create(
    instance: object,
    callback: (...args: unknown[]) => unknown,
    moduleKey: string,
    methodName: string,
    contextId?: unknown,
    inquirerId?: string,
    defaultCallMetadata: Record<string, unknown> = DEFAULT_CALLBACK_METADATA,
    reportUnhandledErrors = false,
  ): SyncFirstHandler {
    const { stock } = this;
    const isRequestHandler = Reflect.getMetadata(PATTERN_HANDLER_METADATA, callback) === MESSAGE_HANDLER;
    if (!isRequestHandler || (stock.applicationConfig?.getGlobalPreRequestHooks() ?? []).length > 0) {
      return stock.create(instance, callback, moduleKey, methodName, contextId, inquirerId, defaultCallMetadata, reportUnhandledErrors);
    }
    const { argsLength, paramtypes, getParamsMetadata } = stock.getMetadata(instance, methodName, defaultCallMetadata, 'rpc');
    const perHandler = [instance, callback, moduleKey, contextId, inquirerId] as const;
    // Created in Nest's order: exception filters, pipes, guards, interceptors.
    const exceptionsHandler = stock.exceptionFiltersContext.create(...perHandler);
    const pipes = stock.pipesContextCreator.create(...perHandler);
    const guards = stock.guardsContextCreator.create(...perHandler);
    const interceptors = stock.interceptorsContextCreator.create(...perHandler);
    const paramsMetadata = getParamsMetadata(moduleKey);
    const params = paramsMetadata ? stock.contextUtils.mergeParamsMetatypes(paramsMetadata, paramtypes) : [];
    const pipeline = new SyncFirstPipeline({
      instance,
      callback,
      exceptionsHandler,
      guards,
      interceptors,
      params: params.length > 0 ? params.map((param) => ({ ...param, pipes: pipes.concat(param.pipes) })) : null,
      argsLength,
      rpcProxy: stock.rpcProxy,
      reportUnhandledErrors,
    });
    return pipeline.handle;
  }
}

/**
 * Makes `microservice` build its handlers with a `SyncFirstRpcContextCreator`, then registers them
 * as `connectMicroservice` does without `deferInitialization` (which it must have been connected
 * with: the handlers are built when they are registered). It replaces a member of Nest's own
 * objects: a Nest that lacks one throws here, at start-up, naming ECHO_FAST_PATH=false as the way
 * back to stock.
 */
export function installSyncFirstDispatch(microservice: INestMicroservice): void {
  const listeners = (microservice as { microservicesModule?: { listenersController?: { contextCreator?: unknown } } }).microservicesModule
    ?.listenersController;
  const stock = listeners?.contextCreator;
  if (!(microservice instanceof NestMicroservice) || listeners === undefined || !isStockRpcContextCreator(stock)) {
    throw new Error(
      'ECHO_FAST_PATH: this version of @nestjs/microservices builds handlers differently from 12.1; set ECHO_FAST_PATH=false (docs/performance.md)',
    );
  }
  listeners.contextCreator = new SyncFirstRpcContextCreator(stock);
  microservice.registerListeners();
  microservice.setIsInitialized(true);
  microservice.setIsInitHookCalled(true);
}
