import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { closeProxy } from '../close-proxy';
import type { ConnectFailure, ConnectionState, ReplicaInfo } from '../connection-info';
import { ConnectionKeeper } from '../connection-keeper';
import type { ReplicaDiscovery, ReplicaPoolSettings } from '../connection-pool';
import type { RpcClientError } from '../rpc-client.error';
import { BalancedReplica } from './balanced-replica';

/** The counters of `ConnectionInfo` summed over the replicas. */
type SummedCounter = 'attempts' | 'connects' | 'drops' | 'deadConnections';

/**
 * The membership of a balanced pool: a replica (a proxy and its `ConnectionKeeper`) per address of
 * the name. A new address gets a replica, connected at once once the pool is in use; a vanished one
 * gets no new call and is closed once its calls end (or after `retireAfterMs`). The counters of the
 * replicas removed are kept, so that the pool's totals do not go down.
 */
export abstract class ReplicaPool {
  protected readonly logger = new Logger('EchoClient');
  protected members: BalancedReplica[] = [];
  /** Any change a waiting call may be waiting for: a state, a member, an ejection ended, `close()`. */
  protected readonly changes$ = new Subject<void>();
  protected readonly failures$ = new Subject<ConnectFailure>();
  protected closed = false;
  /** A call or `connect()` has come: resolution runs and new replicas connect at once. */
  protected active = false;
  protected lastError?: RpcClientError;
  private readonly retired: Record<SummedCounter, number> = { attempts: 0, connects: 0, drops: 0, deadConnections: 0 };

  constructor(
    private readonly discovery: ReplicaDiscovery,
    protected readonly settings: ReplicaPoolSettings,
  ) {}

  /** Every failed connect attempt of a replica, and every failed resolution of the name, until `close()`. */
  get failures(): Observable<ConnectFailure> {
    return this.failures$.asObservable();
  }

  /** `host:port`, the name as given. */
  protected get target(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  /** A replica's keeper changed state (its current state is told at once when it joins). */
  protected abstract changed(member: BalancedReplica, state: ConnectionState): void;

  /** Makes the replicas those of `addresses`: a replica for each new one, retirement for each gone. */
  protected apply(addresses: readonly string[], first: boolean): void {
    const wanted = new Set(addresses);
    const target = this.target;
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

  protected remove(member: BalancedReplica): void {
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

  /** `key` summed over `replicas` and the replicas removed. */
  protected sum(replicas: readonly ReplicaInfo[], key: SummedCounter): number {
    return replicas.reduce((total, replica) => total + replica[key], this.retired[key]);
  }

  /** Ends every replica's connection; calls still waiting are told through `changes$`. */
  protected async closeMembers(): Promise<void> {
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

  private add(address: string): void {
    const { policy, random, deadAfterTimeouts } = this.settings;
    const proxy = this.discovery.createProxy(address);
    const member = new BalancedReplica(address, proxy, new ConnectionKeeper(proxy, policy, address, random, deadAfterTimeouts));
    member.subscription = member.keeper.changes.subscribe((state) => this.changed(member, state));
    member.keeper.failures.subscribe((failure) => this.failures$.next(failure)); // completes when the keeper closes
    this.members = [...this.members, member];
    if (this.active) {
      member.keeper.connect().catch(() => undefined); // its outcome arrives through its state
    }
  }

  private retire(member: BalancedReplica): void {
    member.retiring = true;
    if (member.inFlight === 0) {
      this.remove(member);
      return;
    }
    clearTimeout(member.retireTimer);
    member.retireTimer = setTimeout(() => this.remove(member), this.settings.retireAfterMs).unref();
  }

  /** With one replica, messages name the host as without balancing; with several, each replica's address too. */
  private relabel(): void {
    const target = this.target;
    const single = this.members.length === 1;
    this.members.forEach((member) => (member.keeper.target = single ? target : `${target} (${member.address})`));
  }
}
