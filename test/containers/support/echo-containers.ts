import { EchoClient, type EchoClientOptions } from '@echo-pair/common';
import { EchoServerContainer, LOOPBACK, type EchoClientOverrides, type StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { GenericContainer, Network, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import type { Cleanup } from './cleanup';
import { IMAGES, RUN_LABEL, runId, uniqueName } from './test-run';

/** Where the host reaches published ports: IPv4 loopback, where they are bound. */
export { LOOPBACK };

/**
 * A client-worker container of this run: labelled so that the global teardown finds it if a
 * suite left it behind, and any port it publishes bound to 127.0.0.1 only (testcontainers
 * binds every interface). The server's containers are `EchoServerContainer`s of
 * @echo-pair/testcontainers, which does the same.
 */
export class LoopbackContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.withLabels({ [RUN_LABEL]: runId() });
  }

  protected override beforeContainerCreated(): Promise<void> {
    const portBindings = (this.hostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string }>>;
    for (const bindings of Object.values(portBindings)) {
      for (const binding of bindings) {
        binding.HostIp = LOOPBACK;
      }
    }
    return Promise.resolve();
  }
}

/**
 * The echo-server image of this run, through the project's own Testcontainers module: every
 * port published on 127.0.0.1, ready once its HEALTHCHECK (a `hello` through the real framing)
 * passes, labelled for the global teardown, logging warnings only.
 */
export function echoServerContainer(): EchoServerContainer {
  return new EchoServerContainer(IMAGES.echoServer.tag).withLabels({ [RUN_LABEL]: runId() }).withEnvironment({ LOG_LEVEL: 'warn' });
}

/**
 * The client-worker image. Started without waiting for anything: it runs to its
 * end, and `waitForExit` reads its exit code and transcript.
 */
export function clientWorkerContainer(): LoopbackContainer {
  return new LoopbackContainer(IMAGES.clientWorker.tag);
}

/** Starts `container` and registers its stop (and removal) with `cleanup`. */
export async function startContainer<Started extends StartedTestContainer>(
  cleanup: Cleanup,
  container: { start(): Promise<Started> },
): Promise<Started> {
  const started = await container.start();
  cleanup.add(`container ${started.getId().slice(0, 12)}`, () => started.stop({ timeout: 5_000 }));
  return started;
}

/** A fresh bridge network named after this run, removed by `cleanup`. */
export async function startNetwork(cleanup: Cleanup): Promise<StartedNetwork> {
  const network = await new Network({ nextUuid: () => uniqueName('net') }).start();
  cleanup.add(`network ${network.getName()}`, () => network.stop());
  return network;
}

/** `count` typed clients made with `options`, all closed by `cleanup`. */
function clientsOf(cleanup: Cleanup, options: EchoClientOptions, count: number): EchoClient[] {
  const clients = Array.from({ length: count }, () => EchoClient.create(options));
  cleanup.add(`${count} client(s) of ${options.host}:${options.port}`, () => Promise.all(clients.map((client) => client.close())));
  return clients;
}

/** `count` typed clients of a server published on 127.0.0.1:`port` (a compose project's), all closed by `cleanup`. */
export function createClients(cleanup: Cleanup, port: number, count: number, timeoutMs = 10_000): EchoClient[] {
  return clientsOf(cleanup, { host: LOOPBACK, port, timeoutMs }, count);
}

export function createClient(cleanup: Cleanup, port: number, timeoutMs?: number): EchoClient {
  return createClients(cleanup, port, 1, timeoutMs)[0];
}

/** `count` typed clients of a server container, from its `getClientOptions` (10 s calls unless overridden), closed by `cleanup`. */
export function serverClients(
  cleanup: Cleanup,
  server: StartedEchoServerContainer,
  count: number,
  overrides?: EchoClientOverrides,
): EchoClient[] {
  return clientsOf(cleanup, server.getClientOptions({ timeoutMs: 10_000, ...overrides }), count);
}

export function serverClient(cleanup: Cleanup, server: StartedEchoServerContainer, overrides?: EchoClientOverrides): EchoClient {
  return serverClients(cleanup, server, 1, overrides)[0];
}
