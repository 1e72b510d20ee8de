import { LOOPBACK } from './echo-server-ports';

/** Docker's `HostConfig.PortBindings`: for each `port/protocol`, where the host publishes it. */
export type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | undefined>;

/**
 * The same bindings, each on 127.0.0.1 only: Testcontainers publishes on every interface,
 * which would open the server to the machine's network. Returns a new object.
 */
export function onLoopback(portBindings: PortBindings | undefined): PortBindings {
  return Object.fromEntries(
    Object.entries(portBindings ?? {}).map(([port, bindings]) => [port, bindings?.map((binding) => ({ ...binding, HostIp: LOOPBACK }))]),
  );
}
