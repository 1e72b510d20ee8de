import { ErrorCodes, isRpcErrorEnvelope, type RpcErrorEnvelope } from '@echo-pair/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { finalize, isObservable, of, type Observable } from 'rxjs';
import type { GatewayContext } from '../core/gateway-context';
import { isPlainPattern } from './plain-pattern';

/** What a handler produced for one request: its reply, or the error envelope the exception filter made. */
export type CallOutcome = { ok: true; response: unknown } | { ok: false; error: RpcErrorEnvelope };

/**
 * A call's outcome: there and then when the handler's whole pipeline ran synchronously, else a
 * promise of it. A door continues at once on the first, so that lines or datagrams of one read
 * are answered in one pass (`instanceof Promise` tells them apart).
 */
export type OutcomeNowOrLater = CallOutcome | Promise<CallOutcome>;

const INTERNAL_ERROR: CallOutcome = {
  ok: false,
  error: { code: ErrorCodes.INTERNAL_ERROR, message: 'internal server error', details: {} },
};

const NO_HANDLER: CallOutcome = {
  ok: false,
  error: { code: ErrorCodes.INTERNAL_ERROR, message: 'no handler for this pattern', details: {} },
};

/** What an event's handlers produced when none failed: there is no reply to carry. */
export const EVENT_HANDLED: CallOutcome = { ok: true, response: undefined };

/**
 * The base of the transports that are not Nest's own (the text gateway, UDP): they run
 * requests and events through the handlers Nest registered on them, so that the same
 * controllers, guards, pipes, interceptors, exception filters and processing hooks
 * (the drain's in-flight count) serve them as serve Nest's TCP transport.
 */
export abstract class GatewayServer extends Server implements CustomTransportStrategy {
  /**
   * With `fastPath` (ECHO_FAST_PATH), a plain pattern name is routed without stock's `JSON.parse`
   * (which throws for `echo`, a stack trace per message), as EchoServerTcp does; without it, stock
   * routes, decided once here.
   */
  constructor(readonly fastPath = true) {
    super();
    if (!fastPath) {
      // An own property in front of the override below: the stock method, with no test per message.
      this.getRouteFromPattern = (pattern) => super.getRouteFromPattern(pattern);
    }
  }

  /** A pattern that cannot be JSON is routed as it is, as stock's `JSON.parse` fallback would; any other, by stock. */
  protected override getRouteFromPattern(pattern: string): string {
    return isPlainPattern(pattern) ? this.normalizePattern(pattern) : super.getRouteFromPattern(pattern);
  }

  /**
   * Runs the request handler of `pattern` between the processing hooks, as Nest's `handleRequest`
   * does: its first reply or its error envelope, never a rejection. The outcome itself when the
   * handler answered synchronously (`SyncFirstPipeline`), else a promise of it.
   */
  protected invoke(pattern: string, data: unknown, context: GatewayContext): OutcomeNowOrLater {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      return NO_HANDLER;
    }
    let outcome: CallOutcome | undefined;
    let later: ((outcome: CallOutcome) => void) | undefined;
    const settle = (settled: CallOutcome): void => {
      if (outcome === undefined) {
        outcome = settled;
        later?.(settled);
      }
    };
    try {
      // Typed as returning a promise; the project's hooks pass on whatever `produce` returns (nothing for an answer at once).
      const produce = (() => this.produce(handler, data, context, settle)) as () => Promise<void>;
      const started: unknown = this.onProcessingStartHook(this.transportId!, context, produce);
      if (started instanceof Promise) {
        started.catch(() => settle(INTERNAL_ERROR));
      }
    } catch {
      settle(INTERNAL_ERROR);
    }
    return outcome ?? new Promise<CallOutcome>((resolve) => (later = resolve));
  }

  /** The handler's result, settled as its first reply or its error; the end hook once it has ended. */
  private produce(
    handler: MessageHandler,
    data: unknown,
    context: GatewayContext,
    settle: (outcome: CallOutcome) => void,
  ): Promise<void> | undefined {
    const runEndHook = this.createProcessingEndHookRunner(context);
    const failed = (error: unknown): void => {
      runEndHook();
      settle({ ok: false, error: toEnvelope(error) });
    };
    const answered = (result: unknown): void => {
      if (!isObservable(result)) {
        runEndHook();
        settle({ ok: true, response: result });
        return;
      }
      result.pipe(finalize(runEndHook)).subscribe({
        next: (response) => settle({ ok: true, response }),
        error: failed,
        complete: () => settle({ ok: true, response: undefined }),
      });
    };
    let result: unknown;
    try {
      result = handler(data, context);
    } catch (error) {
      failed(error);
      return undefined;
    }
    if (result instanceof Promise) {
      return result.then(answered, failed);
    }
    answered(result);
    return undefined;
  }

  /**
   * Runs the event handlers of `pattern` as Nest's `handleEvent` does (the same processing hooks,
   * the handlers' pipes, guards and filters), but also observes them: resolves with
   * `EVENT_HANDLED`, or the error envelope the exception filter made (a payload that fails
   * validation), never rejects. For the text doors' `/emit`, which answer a line.
   */
  protected deliverEvent(pattern: string, data: unknown, context: GatewayContext): OutcomeNowOrLater {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler?.isEventHandler) {
      return Promise.resolve(NO_HANDLER);
    }
    return new Promise<CallOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: CallOutcome): void => {
        if (!settled) {
          settled = true;
          resolve(outcome);
        }
      };
      // Typed void, yet it returns the processing hooks' promise, which rejects if the handler does.
      const handled: unknown = this.runWithProcessingHooks(context, async (runEndHook) => {
        const result: unknown = await handler(data, context);
        const stream: Observable<unknown> = isObservable(result) ? result : of(result);
        stream.pipe(finalize(runEndHook)).subscribe({
          error: (err: unknown) => settle({ ok: false, error: toEnvelope(err) }),
          complete: () => settle(EVENT_HANDLED),
        });
      });
      Promise.resolve(handled).catch(() => settle(INTERNAL_ERROR));
    });
  }

  /** Runs the event handlers of `pattern` (no reply); an unknown event is logged by Nest and dropped. */
  protected dispatchEvent(pattern: string, data: unknown, context: GatewayContext): Promise<unknown> {
    return this.handleEvent(pattern, { pattern, data }, context);
  }
}

function toEnvelope(err: unknown): RpcErrorEnvelope {
  return isRpcErrorEnvelope(err) ? err : { code: ErrorCodes.INTERNAL_ERROR, message: 'internal server error', details: {} };
}
