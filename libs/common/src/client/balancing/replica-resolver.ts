import { Logger } from '@nestjs/common';
import { promises as dnsPromises } from 'node:dns';
import { backoffDelayMs } from '../backoff';
import { closedError } from '../client-errors';
import type { ResolutionInfo } from '../connection-info';
import type { ReplicaPoolSettings } from '../connection-pool';
import type { HostResolver } from '../echo-client-options';
import { describeError } from '../describe-error';
import { RpcClientError } from '../rpc-client.error';

/** Resolution after a connection failed waits this long, so that the failures of one event make one lookup. */
export const RESOLVE_AFTER_FAILURE_MS = 200;
/** Resolutions triggered by failures are at least this far apart. */
export const MIN_RESOLVE_GAP_MS = 1_000;

/** The default `HostResolver`: every address of `host`, through the system's resolver (`/etc/hosts`, Docker's or the cluster's DNS). */
const lookupAllAddresses: HostResolver = async (host) => (await dnsPromises.lookup(host, { all: true })).map(({ address }) => address);

/** What a resolver tells, and asks of, the pool whose name it resolves. */
export interface ResolvedNameListener {
  /** The replicas known now. */
  readonly known: number;
  /** The name resolved to `addresses` (`first`: for the first time). */
  resolved(addresses: readonly string[], first: boolean): void;
  /** A resolution failed; the next starts in `retryInMs` when nothing else would start it. */
  unresolved(error: RpcClientError, retryInMs: number | undefined): void;
}

/**
 * Resolves the name of a balanced pool to its addresses: on demand (`resolveNow`, joining a
 * resolution under way), every `resolveIntervalMs`, soon after a connection fails (`resolveSoon`),
 * and with backoff while no address is known. A failed resolution keeps the replicas known.
 */
export class ReplicaResolver {
  private readonly logger = new Logger('EchoClient');
  private readonly resolver: HostResolver;
  private closed = false;
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private dueAt = 0;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private resolves = 0;
  private failures = 0;
  private error?: RpcClientError;

  constructor(
    private readonly settings: ReplicaPoolSettings,
    private readonly listener: ResolvedNameListener,
  ) {
    this.resolver = settings.resolver ?? lookupAllAddresses;
  }

  /** The resolution under way, if one is. */
  get resolving(): Promise<void> | undefined {
    return this.running;
  }

  /** Whether a resolution is scheduled. */
  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** Resolutions that failed in a row, since the last that succeeded. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Why the last resolution failed, unless one succeeded since. */
  get lastError(): RpcClientError | undefined {
    return this.error;
  }

  info(): ResolutionInfo {
    return {
      host: this.settings.host,
      resolves: this.resolves,
      consecutiveFailures: this.failures,
      ...(this.error ? { lastError: this.error } : {}),
    };
  }

  /** Resolves the name now (joining a resolution under way); rejects with `CONNECTION_FAILED` when it fails. */
  resolveNow(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** A connection failed: the name may have changed (a replica gone, another started); resolve it again soon. */
  resolveSoon(): void {
    if (this.closed) {
      return;
    }
    const gapEndsInMs = this.lastStartedAt + MIN_RESOLVE_GAP_MS - Date.now();
    this.schedule(Math.max(RESOLVE_AFTER_FAILURE_MS, gapEndsInMs));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    const { host, resolveIntervalMs, policy, random } = this.settings;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastStartedAt = Date.now();
    let addresses: readonly string[];
    try {
      addresses = await this.resolver(host);
      if (addresses.length === 0) {
        throw new Error(`${host} has no address`);
      }
    } catch (error: unknown) {
      if (this.closed) {
        throw closedError('connect');
      }
      this.failures += 1;
      this.error = new RpcClientError({
        code: 'CONNECTION_FAILED',
        message: `cannot resolve ${host}: ${describeError(error)}`,
        pattern: 'connect',
        cause: error,
      });
      const known = this.listener.known;
      if (this.failures === 1) {
        this.logger.warn(`${this.error.message}${known > 0 ? `; keeping its ${known} known replica(s)` : ''}`);
      }
      let retryInMs: number | undefined;
      if (known > 0) {
        if (resolveIntervalMs > 0) {
          this.schedule(resolveIntervalMs);
        }
      } else if (policy.enabled) {
        retryInMs = backoffDelayMs(this.failures, policy, random);
        this.schedule(retryInMs);
      }
      this.listener.unresolved(this.error, retryInMs);
      throw this.error;
    }
    if (this.closed) {
      return;
    }
    if (this.failures > 0 && this.resolves > 0) {
      this.logger.log(`resolved ${host} again after ${this.failures} failure(s)`);
    }
    this.failures = 0;
    this.error = undefined;
    this.resolves += 1;
    this.listener.resolved(addresses, this.resolves === 1);
    if (resolveIntervalMs > 0) {
      this.schedule(resolveIntervalMs);
    }
  }

  /** Resolves again in `delayMs`, unless a resolution is due sooner already. */
  private schedule(delayMs: number): void {
    if (this.closed) {
      return;
    }
    const dueAt = Date.now() + delayMs;
    if (this.timer !== undefined && this.dueAt <= dueAt) {
      return;
    }
    clearTimeout(this.timer);
    this.dueAt = dueAt;
    // Unreferenced: resolving alone does not keep the process alive.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.resolveNow().catch(() => undefined); // its outcome arrives through the listener
    }, delayMs).unref();
  }
}
