import { EchoClient } from '@echo-pair/common';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import type { Cleanup } from './cleanup';
import { IMAGES, RUN_LABEL, runId, uniqueName } from './test-run';

/** Start-up bound of a server container: it is ready when its HEALTHCHECK passes (first probe after 5 s). */
const SERVER_STARTUP_MS = 90_000;

/** Where the host reaches published ports: IPv4 loopback, where they are bound. */
export const LOOPBACK = '127.0.0.1';

/**
 * A container of this run: labelled so that the global teardown finds it if a
 * suite left it behind, and its ports published on 127.0.0.1 only (testcontainers
 * binds every interface), like the compose file's default.
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

/** The echo-server image, ready once its own HEALTHCHECK (a `hello` through the real framing) passes. */
export function echoServerContainer(): LoopbackContainer {
  return new LoopbackContainer(IMAGES.echoServer.tag)
    .withEnvironment({ LOG_LEVEL: 'warn' })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(SERVER_STARTUP_MS);
}

/**
 * The client-worker image. Started without waiting for anything: it runs to its
 * end, and `waitForExit` reads its exit code and transcript.
 */
export function clientWorkerContainer(): LoopbackContainer {
  return new LoopbackContainer(IMAGES.clientWorker.tag);
}

/** Starts `container` and registers its stop (and removal) with `cleanup`. */
export async function startContainer(cleanup: Cleanup, container: GenericContainer): Promise<StartedTestContainer> {
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

/** `count` typed clients of a server published on 127.0.0.1:`port`, all closed by `cleanup`. */
export function createClients(cleanup: Cleanup, port: number, count: number, timeoutMs = 10_000): EchoClient[] {
  const clients = Array.from({ length: count }, () => EchoClient.create({ host: LOOPBACK, port, timeoutMs }));
  cleanup.add(`${count} client(s) of port ${port}`, () => Promise.all(clients.map((client) => client.close())));
  return clients;
}

export function createClient(cleanup: Cleanup, port: number, timeoutMs?: number): EchoClient {
  return createClients(cleanup, port, 1, timeoutMs)[0];
}
