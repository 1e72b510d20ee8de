import { Inject, Injectable, Logger, Optional, type ITransportServer, type OnApplicationBootstrap } from '@nestjs/common';
import { CLOSE_GRACE_MS, type ErrorCode } from '@echo-pair/common';
import { Server } from '@nestjs/microservices';
import { ConnectionTracker } from '../connections/connection-tracker.service';
import { SERVED_TRANSPORTS, type ServedTransport } from '../../core/served-transport';

/** What stops accepting new connections when the drain begins. */
export interface Listener {
  close(): unknown;
}

/**
 * Told of every message the transports handle, from the same processing hooks that count
 * them in flight: the request metrics' latency histogram, the server spans of the tracing.
 * Every call runs on the hot path: keep them to a few synchronous steps.
 */
export interface CallObserver {
  /** A message (request or event) was dispatched to its handler; `context` is its transport's RPC context. */
  started(context: unknown): void;
  /** Its last reply or its error has been produced (an event: its handler finished); the same `context`. */
  ended(context: unknown): void;
  /**
   * Runs the message's handling, `handle` (its handler, then its reply), and returns what it
   * returns: for what must be current while the handler runs, such as the span of the message
   * (its trace context, which log lines written meanwhile read). Called right after `started`.
   */
  around?<T>(context: unknown, handle: () => T): T;
  /** The exception filter produced the error envelope `code` for the message of `context` (between `started` and `ended`). */
  failed?(context: unknown, code: ErrorCode): void;
}

export interface DrainResult {
  /** Every message in flight was handled and replied to before the deadline. */
  drained: boolean;
  /** Messages still in flight when the connections were closed (0 when drained). */
  inFlight: number;
  /** Connections open when the drain began closing them. */
  connections: number;
  /** From the start of the drain until every connection was closed. */
  elapsedMs: number;
}

/**
 * Graceful shutdown: stops accepting connections, answers new requests with SHUTTING_DOWN (see
 * `DrainGuard`), waits up to a deadline for the messages in flight to produce their reply, then
 * closes every connection after its last reply. It counts messages (requests with a handler, and
 * events) through the processing hooks of every served transport, taken when the application
 * bootstraps, before they listen, and passes each message's begin and end to the observers
 * registered by then (`observe`). Why hooks: docs/operations.md.
 */
@Injectable()
export class DrainService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Shutdown');
  private inFlightCount = 0;
  private readonly observers: CallObserver[] = [];
  private readonly failureObservers = new Set<CallObserver>();
  private isDraining = false;
  private onIdle: (() => void) | undefined;
  private result: Promise<DrainResult> | undefined;

  constructor(
    private readonly connections: ConnectionTracker,
    @Optional() @Inject(SERVED_TRANSPORTS) private readonly transports: readonly ServedTransport[] = [],
  ) {}

  get draining(): boolean {
    return this.isDraining;
  }

  /** Messages being handled: from their dispatch until their last reply (or their error) has been produced. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /**
   * Tells `observer` of every message of the served transports, after those registered before it
   * (its `around` inside theirs). Register before the application bootstraps: in the observer's
   * `onModuleInit`, or in the factory of its provider.
   */
  observe(observer: CallObserver): void {
    this.observers.push(observer);
  }

  /** Counts the messages of every served transport, telling the observers: before the transports listen. */
  onApplicationBootstrap(): void {
    for (const { strategy } of this.transports) {
      this.countMessagesOf(strategy, ...this.observers);
    }
  }

  /**
   * Counts the messages `server` handles, and tells `observers` (if any) of each one's start
   * and end, in their order (the handling runs inside each one's `around`, the first outermost);
   * call it once per server, before it listens. It takes the server's processing hooks.
   */
  countMessagesOf(server: ITransportServer, ...observers: CallObserver[]): void {
    if (!(server instanceof Server)) {
      throw new TypeError('DrainService counts messages through the processing hooks of a Nest transport Server');
    }
    observers.filter((observer) => observer.failed !== undefined).forEach((observer) => this.failureObservers.add(observer));
    const observer = observers.length > 1 ? allOf(observers) : observers[0];
    // Typed as returning void, yet Nest passes the hook's result on (its default hook returns
    // `done()`): returning the promise keeps a failed handler's rejection observed by Nest.
    // Without an observer, the hooks stay one counter each way.
    if (observer === undefined) {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      server.setOnProcessingStartHook((_transport, _context, done) => {
        this.inFlightCount += 1;
        return done();
      });
      server.setOnProcessingEndHook(() => this.ended());
      return;
    }
    const around = observer.around?.bind(observer);
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    server.setOnProcessingStartHook((_transport, context, done) => {
      this.inFlightCount += 1;
      observer.started(context);
      return around === undefined ? done() : around(context, done);
    });
    server.setOnProcessingEndHook((_transport, context) => {
      observer.ended(context);
      this.ended();
    });
  }

  /**
   * The exception filter's one report of a failed message: passed to every observer that wants
   * it (the metrics' outcome label, the server span's outcome), whichever of them are on.
   */
  failed(context: unknown, code: ErrorCode): void {
    for (const observer of this.failureObservers) {
      observer.failed!(context, code);
    }
  }

  private ended(): void {
    this.inFlightCount -= 1;
    if (this.inFlightCount === 0) {
      this.onIdle?.();
    }
  }

  /**
   * Drains once: later calls return the first drain's result. `listener` is the
   * server that accepts connections; it is closed at once.
   */
  drain(listener: Listener, deadlineMs: number): Promise<DrainResult> {
    this.result ??= this.run(listener, deadlineMs);
    return this.result;
  }

  private async run(listener: Listener, deadlineMs: number): Promise<DrainResult> {
    const startedAt = performance.now();
    this.isDraining = true;
    listener.close();
    this.logger.log(
      `draining: no new connections; ${this.inFlightCount} message(s) in flight on ${this.connections.openConnections} connection(s), ` +
        `waiting up to ${deadlineMs} ms; new requests get SHUTTING_DOWN`,
    );
    const drained = await this.idle(deadlineMs);
    const inFlight = this.inFlightCount;
    if (drained) {
      this.logger.log(`drained in ${elapsedSince(startedAt)} ms`);
    } else {
      this.logger.warn(`drain deadline of ${deadlineMs} ms passed with ${inFlight} message(s) still in flight: their replies are lost`);
    }
    // Replies are written on the next tick after their handler completes (Nest's `send`,
    // then the framed socket's batching); a macrotask later they are all queued on their sockets.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { closed, cutOff } = await this.connections.closeAll(CLOSE_GRACE_MS);
    const elapsedMs = elapsedSince(startedAt);
    this.logger.log(
      `closed ${closed} connection(s)${cutOff > 0 ? `, ${cutOff} cut off after ${CLOSE_GRACE_MS} ms without closing their side` : ''}; ` +
        `shutdown took ${elapsedMs} ms`,
    );
    return { drained, inFlight, connections: closed, elapsedMs };
  }

  /** True once nothing is in flight, false if `deadlineMs` passes first. */
  private idle(deadlineMs: number): Promise<boolean> {
    if (this.inFlightCount === 0) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = undefined;
        resolve(false);
      }, deadlineMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(true);
      };
    });
  }
}

/** Several observers as one: each told in turn; the handling runs inside every `around`, the first outermost. */
function allOf(observers: readonly CallObserver[]): CallObserver {
  const arounds = observers.filter((observer) => observer.around !== undefined);
  const combined: CallObserver = {
    started(context) {
      for (const observer of observers) {
        observer.started(context);
      }
    },
    ended(context) {
      for (const observer of observers) {
        observer.ended(context);
      }
    },
  };
  if (arounds.length > 0) {
    combined.around = <T>(context: unknown, handle: () => T): T =>
      arounds.reduceRight<() => T>((inner, observer) => () => observer.around!(context, inner), handle)();
  }
  return combined;
}

function elapsedSince(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
