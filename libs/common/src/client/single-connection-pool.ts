import type { ClientProxy } from '@nestjs/microservices';
import { defer, map, of, Subject, throwError, type Observable } from 'rxjs';
import { closeProxy } from './close-proxy';
import type { ConnectFailure, EchoClientConnectionInfo } from './connection-info';
import type { ConnectionKeeper } from './connection-keeper';
import type { ConnectionPool } from './connection-pool';
import type { WhenDisconnected } from './echo-client-options';
import { Replica } from './replica';
import { RETRYABLE_CODES, RpcClientError, type RpcClientErrorCode } from './rpc-client.error';

/**
 * One replica on a proxy, as given, kept by its `ConnectionKeeper`: never resolved, ejected or
 * retired. A call that finds it disconnected waits on its keeper (or fails fast, per `whenDisconnected`).
 */
export class SingleConnectionPool implements ConnectionPool {
  readonly resolvesName = false;
  private readonly only: Replica;
  private readonly failures$ = new Subject<ConnectFailure>();

  constructor(proxy: ClientProxy, keeper: ConnectionKeeper, address: string) {
    this.only = new Replica(address, proxy, keeper);
    keeper.failures.subscribe(this.failures$); // completes when the keeper closes
  }

  get fixedProxy(): ClientProxy {
    return this.only.proxy;
  }

  get failures(): Observable<ConnectFailure> {
    return this.failures$.asObservable();
  }

  pick(): Replica | undefined {
    const only = this.only;
    return only.keeper.state === 'connected' ? only : undefined;
  }

  hasAlternative(): boolean {
    return false;
  }

  ready(mode: WhenDisconnected, pattern: string, _avoid?: Replica, replica?: string): Observable<Replica> {
    return defer(() => {
      const only = this.only;
      if (replica !== undefined && replica !== only.address) {
        const message = `not sent: no replica ${replica} (replicas: ${only.address})`;
        return throwError(() => new RpcClientError({ code: 'NOT_SENT', message, pattern }));
      }
      return only.keeper.state === 'connected' ? of(only) : only.keeper.ready(mode, pattern).pipe(map(() => only));
    });
  }

  sent(member: Replica): void {
    member.inFlight += 1;
    member.calls += 1;
  }

  record(member: Replica, failure?: RpcClientErrorCode): void {
    if (failure !== undefined && RETRYABLE_CODES.has(failure)) {
      member.failures += 1;
    }
  }

  release(member: Replica): void {
    member.inFlight -= 1;
  }

  notConnectedError(pattern: string, waitedMs?: number): RpcClientError {
    return this.only.keeper.notConnectedError(pattern, waitedMs);
  }

  connect(): Promise<void> {
    return this.only.keeper.connect();
  }

  info(): EchoClientConnectionInfo {
    return { ...this.only.keeper.info(), replicas: [this.only.info()] };
  }

  async close(): Promise<void> {
    this.only.keeper.close();
    this.failures$.complete();
    await closeProxy(this.only.proxy);
  }
}
