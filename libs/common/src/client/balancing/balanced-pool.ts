import { defer, filter, map, of, startWith, take, throwError, type Observable } from 'rxjs';
import { closedError } from '../client-errors';
import type { ConnectionState, EchoClientConnectionInfo, ReplicaInfo } from '../connection-info';
import type { ConnectionPool, ReplicaDiscovery, ReplicaPoolSettings } from '../connection-pool';
import type { WhenDisconnected } from '../echo-client-options';
import { RETRYABLE_CODES, RpcClientError, type RpcClientErrorCode } from '../rpc-client.error';
import type { BalancedReplica } from './balanced-replica';
import { BalancingPolicy } from './balancing-policy';
import { ReplicaEjection } from './replica-ejection';
import { ReplicaPool } from './replica-pool';
import { ReplicaResolver } from './replica-resolver';

/**
 * The connections of a client of a name over TCP: the replicas of `ReplicaPool`, resolved by a
 * `ReplicaResolver` at the first call or `connect()`, then every `resolveIntervalMs` and soon after
 * a connection fails; each call on the replica `BalancingPolicy` picks, failing ones set aside by
 * `ReplicaEjection`. A call that finds none connected waits for one (or fails fast during an outage).
 */
export class BalancedPool extends ReplicaPool implements ConnectionPool {
  readonly resolvesName = true;
  readonly fixedProxy = undefined;
  private readonly policy = new BalancingPolicy();
  private readonly ejection: ReplicaEjection;
  private readonly resolver: ReplicaResolver;

  constructor(discovery: ReplicaDiscovery, settings: ReplicaPoolSettings) {
    super(discovery, settings);
    this.ejection = new ReplicaEjection(settings.policy, settings.random, () => this.changes$.next());
    const members = (): readonly BalancedReplica[] => this.members;
    this.resolver = new ReplicaResolver(settings, {
      get known() {
        return members().length;
      },
      resolved: (addresses, first) => this.apply(addresses, first),
      unresolved: (error, retryInMs) => this.unresolved(error, retryInMs),
    });
  }

  pick(avoid?: BalancedReplica): BalancedReplica | undefined {
    return this.policy.pick(this.members, avoid);
  }

  hasAlternative(failed: BalancedReplica | undefined): boolean {
    return this.policy.hasAlternative(this.members, failed);
  }

  ready(mode: WhenDisconnected, pattern: string, avoid?: BalancedReplica, replica?: string): Observable<BalancedReplica> {
    return defer(() => {
      if (replica !== undefined) {
        return this.readyPinned(mode, pattern, replica);
      }
      const picked = this.pick(avoid);
      return picked !== undefined ? of(picked) : this.waitForAny(mode, pattern, avoid);
    });
  }

  sent(member: BalancedReplica): void {
    member.inFlight += 1;
    member.calls += 1;
  }

  /** A reply clears the replica's strikes and ejection; a timeout is a strike; a `SHUTTING_DOWN` drains it. (A lost connection is its keeper's drop.) */
  record(member: BalancedReplica, failure?: RpcClientErrorCode): void {
    if (failure === undefined || !RETRYABLE_CODES.has(failure)) {
      if (member.strikes !== 0 || member.ejected) {
        this.ejection.cleared(member);
      }
      return;
    }
    member.failures += 1;
    if (failure === 'TIMEOUT') {
      this.ejection.strike(member, this.members.length);
    } else if (failure === 'SHUTTING_DOWN' && this.ejection.drain(member, this.members.length)) {
      this.resolver.resolveSoon();
      this.changes$.next();
    }
  }

  release(member: BalancedReplica): void {
    member.inFlight -= 1;
    if (member.retiring && member.inFlight === 0) {
      this.remove(member);
    }
  }

  /** Resolves the name first if no replica is known, then resolves once the first replica's connection opens. */
  async connect(): Promise<void> {
    if (this.closed) {
      throw closedError('connect');
    }
    this.active = true;
    if (this.members.length === 0) {
      await this.resolver.resolveNow();
    } else if (this.resolver.resolving !== undefined) {
      await this.resolver.resolving.catch(() => undefined); // the replicas known serve meanwhile
    }
    const candidates = this.members.filter((member) => !member.retiring);
    try {
      await Promise.any(candidates.map((member) => member.keeper.connect()));
    } catch (error: unknown) {
      // Each attempt fails with an RpcClientError (see ConnectionKeeper.connect).
      const errors = error instanceof AggregateError ? (error.errors as RpcClientError[]) : [];
      throw errors.at(-1) ?? this.notConnectedError('connect');
    }
  }

  notConnectedError(pattern: string, waitedMs?: number): RpcClientError {
    const live = this.members.filter((member) => !member.retiring);
    if (live.length === 1 && this.members.length === 1) {
      return this.members[0].keeper.notConnectedError(pattern, waitedMs);
    }
    const target = this.target;
    const waited = waitedMs === undefined ? '' : ` within ${waitedMs} ms`;
    const last = this.lastError ? `; last error: ${this.lastError.message}` : '';
    const states = live.map((member) => `${member.address} ${member.keeper.state}`).join(', ');
    const what =
      live.length === 0
        ? this.resolver.lastError
          ? `not connected to ${target}${waited} (no address resolved${last})`
          : `not connected to ${target}${waited} (resolving its addresses${last})`
        : `not connected to any of the ${live.length} replicas of ${target}${waited} (${states}${last})`;
    return new RpcClientError({ code: 'CONNECTION_FAILED', message: what, pattern, cause: this.lastError });
  }

  info(): EchoClientConnectionInfo {
    const replicas = this.members.map((member) => member.info());
    const least = (key: 'consecutiveFailures' | 'consecutiveTimeouts'): number =>
      replicas.length === 0
        ? key === 'consecutiveFailures'
          ? this.resolver.consecutiveFailures
          : 0
        : Math.min(...replicas.map((replica) => replica[key]));
    return {
      state: this.state(replicas),
      attempts: this.sum(replicas, 'attempts'),
      connects: this.sum(replicas, 'connects'),
      drops: this.sum(replicas, 'drops'),
      consecutiveFailures: least('consecutiveFailures'),
      consecutiveTimeouts: least('consecutiveTimeouts'),
      deadConnections: this.sum(replicas, 'deadConnections'),
      lastError: replicas.length === 1 && this.resolver.lastError === undefined ? replicas[0].lastError : this.lastError,
      replicas,
      resolution: this.resolver.info(),
    };
  }

  /** Ends every connection and the resolving; calls still waiting fail with `CONNECTION_CLOSED`. */
  async close(): Promise<void> {
    this.closed = true;
    this.resolver.close();
    await this.closeMembers();
  }

  protected changed(member: BalancedReplica, state: ConnectionState): void {
    const before = member.lastState;
    member.lastState = state;
    if (state === 'connected') {
      member.draining = false;
    } else if ((state === 'reconnecting' || state === 'idle') && (before === 'connected' || before === 'connecting')) {
      // A drop, or a failed attempt.
      this.lastError = member.keeper.info().lastError ?? this.lastError;
      this.ejection.strike(member, this.members.length);
      this.resolver.resolveSoon();
    }
    this.changes$.next();
  }

  private unresolved(error: RpcClientError, retryInMs: number | undefined): void {
    this.lastError = error;
    this.changes$.next();
    if (this.members.length === 0) {
      // Nothing to connect to: a failed attempt to reach the server (with known replicas, it is not).
      const consecutiveFailures = this.resolver.consecutiveFailures;
      this.failures$.next({ target: this.target, error, consecutiveFailures, retryInMs });
    }
  }

  private readyPinned(mode: WhenDisconnected, pattern: string, address: string): Observable<BalancedReplica> {
    const member = this.members.find((candidate) => candidate.address === address);
    if (member === undefined) {
      const known = this.members.map((candidate) => candidate.address).join(', ') || 'none';
      return throwError(
        () => new RpcClientError({ code: 'NOT_SENT', message: `not sent: no replica ${address} (replicas: ${known})`, pattern }),
      );
    }
    return member.keeper.state === 'connected' ? of(member) : member.keeper.ready(mode, pattern).pipe(map(() => member));
  }

  private waitForAny(mode: WhenDisconnected, pattern: string, avoid: BalancedReplica | undefined): Observable<BalancedReplica> {
    this.active = true;
    if (this.closed) {
      return throwError(() => closedError(pattern));
    }
    if (this.members.length === 0 && this.resolver.resolving === undefined && !this.resolver.scheduled) {
      this.resolver.resolveNow().catch(() => undefined); // its outcome arrives through changes$
    }
    // Without reconnect, as without balancing: one attempt per call (here, per idle replica).
    this.members.forEach((member) => {
      if (member.keeper.state === 'idle' && !member.retiring) {
        member.keeper.connect().catch(() => undefined);
      }
    });
    return this.changes$.pipe(
      startWith(undefined),
      map(() => {
        if (this.closed) {
          throw closedError(pattern);
        }
        const picked = this.pick(avoid);
        if (picked !== undefined) {
          return picked;
        }
        if (!this.pending() || (mode === 'fail-fast' && this.inOutage())) {
          throw this.notConnectedError(pattern);
        }
        return undefined;
      }),
      filter((picked): picked is BalancedReplica => picked !== undefined),
      take(1),
    );
  }

  /** Whether a connection may still come without a new call: a resolution or a connect under way or scheduled. */
  private pending(): boolean {
    if (this.resolver.resolving !== undefined || (this.members.length === 0 && this.resolver.scheduled)) {
      return true;
    }
    return this.members.some(
      (member) => !member.retiring && (member.keeper.state === 'connecting' || member.keeper.state === 'reconnecting'),
    );
  }

  /** Every replica has failed since its last connection (or the name could not be resolved): `'fail-fast'` fails now. */
  private inOutage(): boolean {
    const live = this.members.filter((member) => !member.retiring);
    return live.length === 0 ? this.resolver.consecutiveFailures > 0 : live.every((member) => member.keeper.inOutage);
  }

  private state(replicas: readonly ReplicaInfo[]): ConnectionState {
    if (this.closed) {
      return 'closed';
    }
    for (const state of ['connected', 'connecting', 'reconnecting', 'idle'] as const) {
      if (replicas.some((replica) => replica.state === state && !replica.retiring)) {
        return state;
      }
    }
    if (!this.active) {
      return 'idle';
    }
    if (this.resolver.resolving !== undefined && this.resolver.consecutiveFailures === 0) {
      return 'connecting';
    }
    return this.settings.policy.enabled ? 'reconnecting' : 'idle';
  }
}
