import type { ClientProxy } from '@nestjs/microservices';
import type { ConnectionPool, ReplicaDiscovery, ReplicaPoolSettings } from './connection-pool';
import type { EchoClientOptions, EchoClientProtocol } from './echo-client-options';

/** Makes the proxy of a client from its options. */
export type ProxyFactory = (options: EchoClientOptions) => ClientProxy;

/** Client-side balancing over the replicas behind a name, as `client/balancing/` registers it. */
export interface Balancing {
  /** How to reach each address `options.host` resolves to: a proxy made by `tcpProxy` per address. */
  discovery(options: EchoClientOptions, tcpProxy: ProxyFactory): ReplicaDiscovery;
  /** The pool of those replicas. */
  pool(discovery: ReplicaDiscovery, settings: ReplicaPoolSettings): ConnectionPool;
}

/** The optional transports (TCP is built in), by protocol; filled by the folders `client-features.ts` loads. */
const transports = new Map<EchoClientProtocol, ProxyFactory>();
let balancing: Balancing | undefined;

export function registerTransport(protocol: EchoClientProtocol, factory: ProxyFactory): void {
  transports.set(protocol, factory);
}

export function registerBalancing(feature: Balancing): void {
  balancing = feature;
}

/** The factory of an optional transport; throws when its folder is left out of the build. */
export function transportFactory(protocol: EchoClientProtocol): ProxyFactory {
  const factory = transports.get(protocol);
  if (factory === undefined) {
    throw new Error(`EchoClient: protocol "${protocol}" is not available: its transport (client/${protocol}/) is not part of this build`);
  }
  return factory;
}

/** Client-side balancing, unless `client/balancing/` is left out of the build. */
export function registeredBalancing(): Balancing | undefined {
  return balancing;
}
