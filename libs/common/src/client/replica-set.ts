import { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { promises as dnsPromises } from 'node:dns';
import type { Socket } from 'node:net';
import { defer, filter, map, of, startWith, Subject, take, throwError, type Observable, type Subscription } from 'rxjs';
import { backoffDelayMs } from './backoff';
import { ConnectionKeeper, type ConnectFailure, type ConnectionInfo, type ConnectionState } from './connection-keeper';
import { CLOSE_GRACE_MS } from '../transport/destroy-unless-closed';
import { type HostResolver, type ReconnectOptions, type WhenDisconnected } from './echo-client-options';
import { EchoClientUdp } from './echo-client-udp';
import { RETRYABLE_CODES, RpcClientError, type RpcClientErrorCode } from './rpc-client.error';
import { describeError } from './describe-error';
import { destroyUnlessClosed } from '../transport/destroy-unless-closed';

/** One replica as `connectionInfo()` reports it: its connection's state and counters, and the calls it carried. */
export interface ReplicaInfo extends ConnectionInfo {
  /** The address its connection goes to: an IP address the name resolved to, or the host as given. */
  address: string;
  /** Calls sent on it now, awaiting their reply. */
  inFlight: number;
  /** Calls sent on it (requests and events), whatever their outcome. */
  calls: number;
  /** Calls of those that failed on the transport: lost, timed out, not connected, or refused by a draining server (`SHUTTING_DOWN`). */
  failures: number;
  /**
   * Set aside after a failure (a drop, a failed connect, a call timed out) while other replicas can
   * serve: chosen only when none of them can, until its backoff ends or it replies.
   */
  ejected: boolean;
  /** It answered `SHUTTING_DOWN`: set aside like an ejected one until it connects again. */
  draining: boolean;
  /** Gone from the name's addresses: it gets no new call, and is closed once its calls in flight have ended. */
  retiring: boolean;
}

/** How the name of a balanced client resolved. */
export interface ResolutionInfo {
  host: string;
  /** Resolutions that succeeded. */
  resolves: number;
  /** Resolutions that failed in a row, since the last that succeeded. */
  consecutiveFailures: number;
  lastError?: RpcClientError;
}

/**
 * The state of a client's connections. The fields of `ConnectionInfo` describe the client as a
 * whole; with one replica they are exactly that replica's. With several: `state` is the best of
 * theirs (connected if any is), the counters are summed over every replica the client has had,
 * `consecutiveFailures` and `consecutiveTimeouts` are those of the replica with the fewest (0 while
 * any is connected and answering), and `lastError` is the last failure of any.
 */
export interface EchoClientConnectionInfo extends ConnectionInfo {
  replicas: ReplicaInfo[];
  /** When `host` is a name that the client resolves (TCP). */
  resolution?: ResolutionInfo;
}

/** How a balanced client reaches the replicas behind its name: a proxy per address. */
export interface ReplicaDiscovery {
  /** A proxy that connects to this one address (an IP address `resolver` returned). */
  createProxy(address: string): ClientProxy;
}

export interface ReplicaSetSettings {
  host: string;
  port: number;
  policy: Required<ReconnectOptions>;
  random: () => number;
  /** See `EchoClientOptions.deadAfterTimeouts`, for each replica's connection. */
  deadAfterTimeouts: number;
  /** See `EchoClientOptions.resolveIntervalMs`. */
  resolveIntervalMs: number;
  resolver: HostResolver;
  /** A retiring replica still busy after this long is closed anyway (its calls fail with CONNECTION_LOST). */
  retireAfterMs: number;
}

/** Resolution after a connection failed waits this long, so that the failures of one event make one lookup. */
export const RESOLVE_AFTER_FAILURE_MS = 200;
/** Resolutions triggered by failures are at least this far apart. */
export const MIN_RESOLVE_GAP_MS = 1_000;

/** The default `HostResolver`: every address of `host`, through the system's resolver (`/etc/hosts`, Docker's or the cluster's DNS). */
export const lookupAllAddresses: HostResolver = async (host) =>
  (await dnsPromises.lookup(host, { all: true })).map(({ address }) => address);

/** One replica: a proxy (one connection) kept by its own `ConnectionKeeper`, and the calls the client sent on it. */
export class Replica {
  inFlight = 0;
  calls = 0;
  failures = 0;
  /** Failure episodes (drops, failed connects, timeouts) since its last reply: set the length of its ejection. */
  strikes = 0;
  ejected = false;
  draining = false;
  retiring = false;
  /** @internal */
  ejectTimer?: NodeJS.Timeout;
  /** @internal */
  retireTimer?: NodeJS.Timeout;
  /** @internal */
  lastState: ConnectionState = 'idle';
  /** @internal */
  subscription?: Subscription;

  constructor(
    readonly address: string,
    readonly proxy: ClientProxy,
    readonly keeper: ConnectionKeeper,
  ) {}

  info(): ReplicaInfo {
    return {
      address: this.address,
      ...this.keeper.info(),
      inFlight: this.inFlight,
      calls: this.calls,
      failures: this.failures,
      ejected: this.ejected,
      draining: this.draining,
      retiring: this.retiring,
    };
  }
}

/**
 * The connections of an `EchoClient`: one `Replica` per address, and the choice of one per call.
 *
 * - **Fixed** (an IP address, UDP, or a proxy given to the constructor): one replica, never
 *   resolved, ejected or retired; a call that finds it disconnected waits on its keeper, exactly
 *   as a client without balancing does.
 * - **Resolved** (a name over TCP): the name is resolved at the first call or `connect()`, then
 *   every `resolveIntervalMs` and soon after a connection fails. A new address gets a replica,
 *   connected at once; a vanished one stops getting calls and is closed once its calls end. Each
 *   replica's keeper reconnects it with backoff on its own; a replica that dropped, failed to
 *   connect or let a call time out is also ejected (passed over while another can serve) for a
 *   backoff that grows with its failures in a row and ends early on a reply, and one that answered
 *   `SHUTTING_DOWN` is passed over until it connects again. A failed resolution keeps the
 *   replicas known.
 *
 * The choice (`pick`) is **least in flight, ties broken round robin**: a replica that answers
 * more slowly (busier, farther, on a slower machine) accumulates calls in flight and so gets
 * fewer new ones, without any latency measurement to tune; a new replica, with none in flight,
 * gets calls at once; and the round-robin tie-break (the scan starts after the replica picked
 * last) spreads callers that wait for each reply (always 0 in flight) evenly instead of always
 * picking the first replica. Plain round robin would ignore load; random choice spreads unevenly
 * over short runs. One scan over the replicas per call, no allocation; for hundreds of replicas,
 * two random choices would do. A replica that fails fast would attract calls under this rule (it
 * has nothing in flight): ejection is what keeps calls away from it.
 */
export class ReplicaSet {
  private readonly logger = new Logger('EchoClient');
  private members: Replica[] = [];
  private cursor = 0;
  /** Any change a waiting call may be waiting for: a state, a member, an ejection ended, `close()`. */
  private readonly changes$ = new Subject<void>();
  private readonly failures$ = new Subject<ConnectFailure>();
  private closed = false;
  /** A call or `connect()` has come: resolution runs and new replicas connect at once. */
  private active = false;
  private resolving?: Promise<void>;
  private resolveTimer?: NodeJS.Timeout;
  private resolveDueAt = 0;
  private lastResolveStartedAt = Number.NEGATIVE_INFINITY;
  private resolves = 0;
  private resolveFailures = 0;
  private resolveError?: RpcClientError;
  private lastError?: RpcClientError;
  /** Counters of the replicas removed, so that the client's totals do not go down. */
  private readonly retired = { attempts: 0, connects: 0, drops: 0, deadConnections: 0 };

  private constructor(
    /** Present for a resolved set. */
    private readonly discovery: ReplicaDiscovery | undefined,
    /** Present for a resolved set. */
    private readonly resolvedSettings: ReplicaSetSettings | undefined,
  ) {}

  /** One replica on `proxy`, as given (kept by `keeper`): no resolution, no balancing. */
  static fixed(proxy: ClientProxy, keeper: ConnectionKeeper, address: string): ReplicaSet {
    const set = new ReplicaSet(undefined, undefined);
    set.members = [new Replica(address, proxy, keeper)];
    keeper.failures.subscribe(set.failures$); // completes when the keeper closes
    return set;
  }

  /** The replicas behind `settings.host`, a name: one per address it resolves to. */
  static resolved(discovery: ReplicaDiscovery, settings: ReplicaSetSettings): ReplicaSet {
    return new ReplicaSet(discovery, settings);
  }

  /** The settings of a resolved set; only its code paths read them. */
  private get settings(): ReplicaSetSettings {
    return this.resolvedSettings!;
  }

  /** The proxy of a fixed set (for what only a single transport has, such as UDP's datagram limit). */
  get fixedProxy(): ClientProxy | undefined {
    return this.discovery === undefined ? this.members[0].proxy : undefined;
  }

  /** Every failed connect attempt of a replica, and every failed resolution of the name, until `close()`. */
  get failures(): Observable<ConnectFailure> {
    return this.failures$.asObservable();
  }

  /** Whether the set resolves a name (and so balances), rather than holding one fixed replica. */
  get resolvesName(): boolean {
    return this.discovery !== undefined;
  }

  /**
   * The replica for a call now, if one is connected: least in flight, ties broken round robin,
   * passing over retiring ones, and preferring replicas that are neither `avoid` (where the call
   * just failed) nor ejected nor draining, but taking one of those rather than none.
   */
  pick(avoid?: Replica): Replica | undefined {
    const members = this.members;
    const count = members.length;
    if (count === 1) {
      const only = members[0];
      return only.keeper.state === 'connected' && !only.retiring ? only : undefined;
    }
    let best: Replica | undefined;
    let bestRank = 0;
    let bestIndex = 0;
    // The scan starts after the replica picked last: among equals, the one that waited longest wins,
    // whichever replicas are passed over (a scan from a rotating start would give the replica after
    // a disconnected one a double share).
    const start = this.cursor < count ? this.cursor : 0;
    for (let step = 0; step < count; step += 1) {
      const index = start + step < count ? start + step : start + step - count;
      const member = members[index];
      if (member.retiring || member.keeper.state !== 'connected') {
        continue;
      }
      const rank = (member === avoid ? 2 : 0) + (member.ejected || member.draining ? 1 : 0);
      if (best === undefined || rank < bestRank || (rank === bestRank && member.inFlight < best.inFlight)) {
        best = member;
        bestRank = rank;
        bestIndex = index;
      }
    }
    if (best !== undefined) {
      this.cursor = bestIndex + 1;
    }
    return best;
  }

  /** Whether a replica other than `failed` could take a call now, neither ejected nor draining: a repeat can go there at once. */
  hasAlternative(failed: Replica | undefined): boolean {
    return this.members.some(
      (member) => member !== failed && !member.retiring && !member.ejected && !member.draining && member.keeper.state === 'connected',
    );
  }

  /**
   * Emits once the replica for a call: at once if one is connected. Otherwise `'wait'` waits for
   * one (the caller bounds the wait by its timeout) and `'fail-fast'` fails with
   * `CONNECTION_FAILED` when every replica is in an outage, joining a first connect. With
   * `replica`, only that replica. A fixed set waits on its keeper, as a client without balancing.
   */
  ready(mode: WhenDisconnected, pattern: string, avoid?: Replica, replica?: string): Observable<Replica> {
    return defer(() => {
      if (replica !== undefined) {
        return this.readyPinned(mode, pattern, replica);
      }
      const picked = this.pick(avoid);
      if (picked !== undefined) {
        return of(picked);
      }
      if (this.discovery === undefined) {
        const only = this.members[0];
        return only.keeper.ready(mode, pattern).pipe(map(() => only));
      }
      return this.waitForAny(mode, pattern, avoid);
    });
  }

  /** A call was sent on `member`. */
  sent(member: Replica): void {
    member.inFlight += 1;
    member.calls += 1;
  }

  /**
   * How a call sent on `member` ended: with a reply (`failure` undefined, or the code of an error
   * the server replied with), or a transport failure. A reply clears the replica's strikes and
   * ejection; a timeout is a strike; a `SHUTTING_DOWN` sets it aside until it connects again.
   * (A lost connection is counted once, as the drop its keeper reports, not once per call.)
   */
  record(member: Replica, failure?: RpcClientErrorCode): void {
    if (failure === undefined || !RETRYABLE_CODES.has(failure)) {
      if (member.strikes !== 0 || member.ejected) {
        this.cleared(member);
      }
      return;
    }
    member.failures += 1;
    if (this.discovery === undefined) {
      return;
    }
    if (failure === 'TIMEOUT') {
      this.strike(member);
    } else if (failure === 'SHUTTING_DOWN' && !member.draining) {
      member.draining = true;
      if (this.members.length > 1) {
        this.logger.log(`replica ${member.keeper.target} is shutting down: calls go to the others until it connects again`);
      }
      this.resolveSoon();
      this.changes$.next();
    }
  }

  /** A call sent on `member` is over (replied, failed or timed out). */
  release(member: Replica): void {
    member.inFlight -= 1;
    if (member.retiring && member.inFlight === 0) {
      this.remove(member);
    }
  }

  /** Opens a connection now: the fixed replica's, or (resolving the name first) the first of the replicas' to open. */
  async connect(): Promise<void> {
    if (this.discovery === undefined) {
      return this.members[0].keeper.connect();
    }
    if (this.closed) {
      throw closedError('connect');
    }
    this.active = true;
    if (this.members.length === 0) {
      await this.resolveNow();
    } else if (this.resolving !== undefined) {
      await this.resolving.catch(() => undefined); // the replicas known serve meanwhile
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

  /** Why a call could not be sent: for the error of a call that waited for a connection in vain. */
  notConnectedError(pattern: string, waitedMs?: number): RpcClientError {
    const live = this.members.filter((member) => !member.retiring);
    if (this.discovery === undefined || (live.length === 1 && this.members.length === 1)) {
      return this.members[0].keeper.notConnectedError(pattern, waitedMs);
    }
    const target = `${this.settings.host}:${this.settings.port}`;
    const waited = waitedMs === undefined ? '' : ` within ${waitedMs} ms`;
    const last = this.lastError ? `; last error: ${this.lastError.message}` : '';
    const states = live.map((member) => `${member.address} ${member.keeper.state}`).join(', ');
    const what =
      live.length === 0
        ? this.resolveError
          ? `not connected to ${target}${waited} (no address resolved${last})`
          : `not connected to ${target}${waited} (resolving its addresses${last})`
        : `not connected to any of the ${live.length} replicas of ${target}${waited} (${states}${last})`;
    return new RpcClientError({ code: 'CONNECTION_FAILED', message: what, pattern, cause: this.lastError });
  }

  info(): EchoClientConnectionInfo {
    const replicas = this.members.map((member) => member.info());
    if (this.discovery === undefined) {
      return { ...this.members[0].keeper.info(), replicas };
    }
    const sum = (key: 'attempts' | 'connects' | 'drops' | 'deadConnections'): number =>
      replicas.reduce((total, replica) => total + replica[key], this.retired[key]);
    const least = (key: 'consecutiveFailures' | 'consecutiveTimeouts'): number =>
      replicas.length === 0
        ? key === 'consecutiveFailures'
          ? this.resolveFailures
          : 0
        : Math.min(...replicas.map((replica) => replica[key]));
    return {
      state: this.state(replicas),
      attempts: sum('attempts'),
      connects: sum('connects'),
      drops: sum('drops'),
      consecutiveFailures: least('consecutiveFailures'),
      consecutiveTimeouts: least('consecutiveTimeouts'),
      deadConnections: sum('deadConnections'),
      lastError: replicas.length === 1 && this.resolveError === undefined ? replicas[0].lastError : this.lastError,
      replicas,
      resolution: {
        host: this.settings.host,
        resolves: this.resolves,
        consecutiveFailures: this.resolveFailures,
        ...(this.resolveError ? { lastError: this.resolveError } : {}),
      },
    };
  }

  /** Ends every connection and the resolving; calls still waiting fail with `CONNECTION_CLOSED`. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resolveTimer);
    this.resolveTimer = undefined;
    const members = this.members;
    members.forEach((member) => {
      clearTimeout(member.ejectTimer);
      clearTimeout(member.retireTimer);
      member.keeper.close();
    });
    this.changes$.next();
    this.failures$.complete();
    await Promise.all(members.map((member) => closeProxy(member.proxy)));
  }

  /** Resolves the name now (joining a resolution under way); rejects with `CONNECTION_FAILED` when it fails. */
  resolveNow(): Promise<void> {
    this.resolving ??= this.runResolve().finally(() => {
      this.resolving = undefined;
    });
    return this.resolving;
  }

  private readyPinned(mode: WhenDisconnected, pattern: string, address: string): Observable<Replica> {
    const member = this.members.find((candidate) => candidate.address === address);
    if (member === undefined) {
      const known = this.members.map((candidate) => candidate.address).join(', ') || 'none';
      return throwError(
        () => new RpcClientError({ code: 'NOT_SENT', message: `not sent: no replica ${address} (replicas: ${known})`, pattern }),
      );
    }
    return member.keeper.state === 'connected' ? of(member) : member.keeper.ready(mode, pattern).pipe(map(() => member));
  }

  private waitForAny(mode: WhenDisconnected, pattern: string, avoid: Replica | undefined): Observable<Replica> {
    this.active = true;
    if (this.closed) {
      return throwError(() => closedError(pattern));
    }
    if (this.members.length === 0 && this.resolving === undefined && this.resolveTimer === undefined) {
      this.resolveNow().catch(() => undefined); // its outcome arrives through changes$
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
      filter((picked): picked is Replica => picked !== undefined),
      take(1),
    );
  }

  /** Whether a connection may still come without a new call: a resolution or a connect under way or scheduled. */
  private pending(): boolean {
    if (this.resolving !== undefined || (this.members.length === 0 && this.resolveTimer !== undefined)) {
      return true;
    }
    return this.members.some(
      (member) => !member.retiring && (member.keeper.state === 'connecting' || member.keeper.state === 'reconnecting'),
    );
  }

  /** Every replica has failed since its last connection (or the name could not be resolved): `'fail-fast'` fails now. */
  private inOutage(): boolean {
    const live = this.members.filter((member) => !member.retiring);
    return live.length === 0 ? this.resolveFailures > 0 : live.every((member) => member.keeper.inOutage);
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
    if (this.resolving !== undefined && this.resolveFailures === 0) {
      return 'connecting';
    }
    return this.settings.policy.enabled ? 'reconnecting' : 'idle';
  }

  private async runResolve(): Promise<void> {
    const { host, resolver, resolveIntervalMs, policy, random } = this.settings;
    clearTimeout(this.resolveTimer);
    this.resolveTimer = undefined;
    this.lastResolveStartedAt = Date.now();
    let addresses: readonly string[];
    try {
      addresses = await resolver(host);
      if (addresses.length === 0) {
        throw new Error(`${host} has no address`);
      }
    } catch (error: unknown) {
      if (this.closed) {
        throw closedError('connect');
      }
      this.resolveFailures += 1;
      this.resolveError = new RpcClientError({
        code: 'CONNECTION_FAILED',
        message: `cannot resolve ${host}: ${describeError(error)}`,
        pattern: 'connect',
        cause: error,
      });
      this.lastError = this.resolveError;
      if (this.resolveFailures === 1) {
        this.logger.warn(
          `${this.resolveError.message}${this.members.length > 0 ? `; keeping its ${this.members.length} known replica(s)` : ''}`,
        );
      }
      let retryInMs: number | undefined;
      if (this.members.length > 0) {
        if (resolveIntervalMs > 0) {
          this.scheduleResolve(resolveIntervalMs);
        }
      } else if (policy.enabled) {
        retryInMs = backoffDelayMs(this.resolveFailures, policy, random);
        this.scheduleResolve(retryInMs);
      }
      this.changes$.next();
      if (this.members.length === 0) {
        // Nothing to connect to: a failed attempt to reach the server (with known replicas, it is not).
        this.failures$.next({
          target: `${host}:${this.settings.port}`,
          error: this.resolveError,
          consecutiveFailures: this.resolveFailures,
          retryInMs,
        });
      }
      throw this.resolveError;
    }
    if (this.closed) {
      return;
    }
    if (this.resolveFailures > 0 && this.resolves > 0) {
      this.logger.log(`resolved ${host} again after ${this.resolveFailures} failure(s)`);
    }
    this.resolveFailures = 0;
    this.resolveError = undefined;
    this.resolves += 1;
    this.apply(addresses);
    if (resolveIntervalMs > 0) {
      this.scheduleResolve(resolveIntervalMs);
    }
  }

  /** Makes the replicas those of `addresses`: a replica for each new one, retirement for each gone. */
  private apply(addresses: readonly string[]): void {
    const wanted = new Set(addresses);
    const first = this.resolves === 1;
    const target = `${this.settings.host}:${this.settings.port}`;
    for (const member of this.members) {
      const keep = wanted.has(member.address);
      if (!keep && !member.retiring) {
        this.logger.log(`replica ${member.address} of ${target} is gone from its addresses: closing it once its calls end`);
        this.retire(member);
      } else if (keep && member.retiring) {
        member.retiring = false;
        clearTimeout(member.retireTimer);
      }
    }
    for (const address of wanted) {
      if (!this.members.some((member) => member.address === address)) {
        if (!first) {
          this.logger.log(`replica ${address} of ${target} appeared: connecting to it`);
        }
        this.add(address);
      }
    }
    if (first && wanted.size > 1) {
      this.logger.log(`${target} resolves to ${wanted.size} replicas (${[...wanted].join(', ')}): calls are spread over them`);
    }
    this.relabel();
    this.changes$.next();
  }

  private add(address: string): void {
    const { policy, random, deadAfterTimeouts } = this.settings;
    const proxy = this.discovery!.createProxy(address);
    const member = new Replica(address, proxy, new ConnectionKeeper(proxy, policy, address, random, deadAfterTimeouts));
    member.subscription = member.keeper.changes.subscribe((state) => this.changed(member, state));
    member.keeper.failures.subscribe((failure) => this.failures$.next(failure)); // completes when the keeper closes
    this.members = [...this.members, member];
    if (this.active) {
      member.keeper.connect().catch(() => undefined); // its outcome arrives through its state
    }
  }

  private retire(member: Replica): void {
    member.retiring = true;
    if (member.inFlight === 0) {
      this.remove(member);
      return;
    }
    clearTimeout(member.retireTimer);
    member.retireTimer = setTimeout(() => this.remove(member), this.settings.retireAfterMs).unref();
  }

  private remove(member: Replica): void {
    if (!this.members.includes(member)) {
      return;
    }
    this.members = this.members.filter((candidate) => candidate !== member);
    clearTimeout(member.ejectTimer);
    clearTimeout(member.retireTimer);
    const { attempts, connects, drops, deadConnections } = member.keeper.info();
    this.retired.attempts += attempts;
    this.retired.connects += connects;
    this.retired.drops += drops;
    this.retired.deadConnections += deadConnections;
    member.subscription?.unsubscribe();
    member.keeper.close();
    void closeProxy(member.proxy);
    this.relabel();
    this.changes$.next();
  }

  /** With one replica, messages name the host as without balancing; with several, each replica's address too. */
  private relabel(): void {
    const target = `${this.settings.host}:${this.settings.port}`;
    const single = this.members.length === 1;
    this.members.forEach((member) => (member.keeper.target = single ? target : `${target} (${member.address})`));
  }

  private changed(member: Replica, state: ConnectionState): void {
    const before = member.lastState;
    member.lastState = state;
    if (state === 'connected') {
      member.draining = false;
    } else if ((state === 'reconnecting' || state === 'idle') && (before === 'connected' || before === 'connecting')) {
      // A drop, or a failed attempt.
      this.lastError = member.keeper.info().lastError ?? this.lastError;
      this.strike(member);
      this.resolveSoon();
    }
    this.changes$.next();
  }

  /**
   * A failure of `member` (a drop, a failed connect, a call timed out): ejects it, when another
   * replica could serve meanwhile, for a backoff that grows with its strikes. Failures while it is
   * ejected already are the same episode (the calls in flight of one stall, say): not counted again.
   */
  private strike(member: Replica): void {
    if (member.ejected) {
      return;
    }
    member.strikes += 1;
    if (this.members.length < 2) {
      return;
    }
    member.ejected = true;
    clearTimeout(member.ejectTimer);
    member.ejectTimer = setTimeout(
      () => {
        member.ejected = false;
        member.ejectTimer = undefined;
        this.changes$.next();
      },
      backoffDelayMs(member.strikes, this.settings.policy, this.settings.random),
    ).unref();
  }

  /** A reply came on `member`: it serves again, whatever it failed before. */
  private cleared(member: Replica): void {
    member.strikes = 0;
    if (member.ejected) {
      member.ejected = false;
      clearTimeout(member.ejectTimer);
      member.ejectTimer = undefined;
      this.changes$.next();
    }
  }

  /** A connection failed: the name may have changed (a replica gone, another started); resolve it again soon. */
  private resolveSoon(): void {
    if (this.discovery === undefined || this.closed) {
      return;
    }
    const gapEndsInMs = this.lastResolveStartedAt + MIN_RESOLVE_GAP_MS - Date.now();
    this.scheduleResolve(Math.max(RESOLVE_AFTER_FAILURE_MS, gapEndsInMs));
  }

  /** Resolves again in `delayMs`, unless a resolution is due sooner already. */
  private scheduleResolve(delayMs: number): void {
    if (this.closed) {
      return;
    }
    const dueAt = Date.now() + delayMs;
    if (this.resolveTimer !== undefined && this.resolveDueAt <= dueAt) {
      return;
    }
    clearTimeout(this.resolveTimer);
    this.resolveDueAt = dueAt;
    // Unreferenced: resolving alone does not keep the process alive.
    this.resolveTimer = setTimeout(() => {
      this.resolveTimer = undefined;
      this.resolveNow().catch(() => undefined); // its outcome arrives through changes$
    }, delayMs).unref();
  }
}

/**
 * Closes a proxy. A peer that never closes its side would keep the half-closed socket, and so
 * the process, alive: it is destroyed after a grace period. A UDP proxy's `close()` ends its socket at once.
 */
async function closeProxy(proxy: ClientProxy): Promise<void> {
  const socket = proxy instanceof EchoClientUdp ? undefined : currentSocket(proxy);
  await proxy.close();
  if (socket && !socket.destroyed) {
    void destroyUnlessClosed(socket, CLOSE_GRACE_MS);
  }
}

function currentSocket(proxy: ClientProxy): Socket | undefined {
  try {
    return proxy.unwrap<Socket>();
  } catch {
    return undefined; // never connected
  }
}

function closedError(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'CONNECTION_CLOSED', message: 'the client is closed', pattern });
}
