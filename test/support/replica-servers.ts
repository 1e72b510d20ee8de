import type { HostResolver } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { freePort } from './loopback-port';
import { startTestServer } from './test-server';

/**
 * Echo servers on several loopback addresses and one port, behind one name: what a client sees of
 * a scaled service (Docker's DNS, a headless Service) without leaving 127.0.0.0/8, which Linux
 * routes to `lo` whole. `resolver` answers for the name with the addresses `listed` holds, which a
 * test changes to make replicas appear and vanish.
 */
export class ReplicaServers {
  readonly servers = new Map<string, RunningEchoServer>();
  /** What the name resolves to now. */
  listed: string[] = [];
  /** How many times the name was resolved. */
  lookups = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  /** Starts a server on each of `addresses` (all loopback), lists them all, on one free port. */
  static async start(name: string, addresses: readonly string[]): Promise<ReplicaServers> {
    const replicas = new ReplicaServers(name, await freePort());
    try {
      for (const address of addresses) {
        await replicas.startOn(address);
        replicas.listed.push(address);
      }
    } catch (error) {
      await replicas.closeAll();
      throw error;
    }
    return replicas;
  }

  readonly resolver: HostResolver = (host) => {
    this.lookups += 1;
    if (host !== this.name) {
      return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    }
    return Promise.resolve([...this.listed]);
  };

  /** Starts a server on `address` (not listed until the test says so). */
  async startOn(address: string): Promise<RunningEchoServer> {
    if (!address.startsWith('127.')) {
      throw new Error(`${address} is not a loopback address`);
    }
    const server = await startTestServer({ ECHO_HOST: address, ECHO_PORT: String(this.port) });
    this.servers.set(address, server);
    return server;
  }

  /** Closes the server on `address` at once (its connections and requests in flight end). */
  async close(address: string): Promise<void> {
    const server = this.servers.get(address);
    this.servers.delete(address);
    await server?.close();
  }

  async closeAll(): Promise<void> {
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map((server) => server.close().catch(() => undefined)));
  }
}
