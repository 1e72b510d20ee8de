import type { ClientProxy } from '@nestjs/microservices';
import { CLOSE_GRACE_MS } from '../transport/destroy-unless-closed';
import { ConnectionKeeper } from './connection-keeper';
import type { ConnectionPool, ReplicaDiscovery } from './connection-pool';
import { isDatagramProxy } from './datagram-proxy';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DEAD_AFTER_TIMEOUTS,
  DEFAULT_RECONNECT,
  DEFAULT_RESOLVE_INTERVAL_MS,
  type EchoClientSettings,
} from './echo-client-options';
import { registeredBalancing } from './feature-registry';
import { SingleConnectionPool } from './single-connection-pool';

export function isDiscovery(proxy: ClientProxy | ReplicaDiscovery): proxy is ReplicaDiscovery {
  return typeof (proxy as Partial<ReplicaDiscovery>).createProxy === 'function';
}

/** The pool of a client: one connection on `proxy`; or, for a discovery, the balanced pool of `client/balancing/`. */
export function createConnectionPool(
  proxy: ClientProxy | ReplicaDiscovery,
  options: EchoClientSettings,
  random: () => number,
): ConnectionPool {
  const policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
  const deadAfterTimeouts = options.deadAfterTimeouts ?? DEFAULT_DEAD_AFTER_TIMEOUTS;
  if (!isDiscovery(proxy)) {
    const target = options.host === undefined ? 'the server' : `${options.host}:${options.port}`;
    // Over UDP there is no connection to find dead, nor a TCP socket whose bytes read would tell.
    const keeper = new ConnectionKeeper(proxy, policy, target, random, isDatagramProxy(proxy) ? 0 : deadAfterTimeouts);
    return new SingleConnectionPool(proxy, keeper, options.host ?? 'the server');
  }
  if (options.host === undefined || options.port === undefined) {
    throw new TypeError('EchoClient: a client of replicas needs options.host (the name to resolve) and options.port');
  }
  const balancing = registeredBalancing();
  if (balancing === undefined) {
    throw new TypeError('EchoClient: a client of replicas needs client-side balancing (client/balancing/), not part of this build');
  }
  return balancing.pool(proxy, {
    host: options.host,
    port: options.port,
    policy,
    random,
    deadAfterTimeouts,
    resolveIntervalMs: Math.max(0, options.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS),
    resolver: options.resolver,
    retireAfterMs: (options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) + CLOSE_GRACE_MS,
  });
}
