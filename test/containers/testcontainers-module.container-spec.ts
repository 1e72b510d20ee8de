import { once } from 'node:events';
import { connect } from 'node:net';
import { EchoClient, REQUEST_PATTERNS } from '@echo-pair/common';
import { EchoServerContainer, type StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { getContainerRuntimeClient } from 'testcontainers';
import { rejection } from '../support/client-calls';
import { createTlsFixtures, type TlsFixtures } from '../support/tls-fixtures';
import { withTimeout } from './support/bounded';
import { Cleanup } from './support/cleanup';
import { echoServerContainer, startContainer } from './support/echo-containers';
import { IMAGES, RUN_LABEL, runId } from './support/test-run';

const SERVER_NAME = 'module-spec';
const CALL_TIMEOUT_MS = 5_000;

async function closeAfter<T>(client: EchoClient, use: (client: EchoClient) => Promise<T>): Promise<T> {
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** @echo-pair/testcontainers against the real image: every door its started container names, and TLS. */
describe('the Testcontainers module (@echo-pair/testcontainers) against the echo-server image', () => {
  describe('with its defaults', () => {
    const cleanup = new Cleanup();
    let server: StartedEchoServerContainer;

    beforeAll(async () => {
      // As a service's own test would start it (docs/testcontainers.md): the image is the run's,
      // through ECHO_SERVER_IMAGE, which the global setup sets.
      server = await startContainer(cleanup, new EchoServerContainer().withLabels({ [RUN_LABEL]: runId() }).withServerName(SERVER_NAME));
    });

    afterAll(() => cleanup.run());

    it("runs this run's image with every port published on 127.0.0.1 only", async () => {
      const { Config, HostConfig } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();

      expect(Config.Image).toBe(IMAGES.echoServer.tag);
      expect(Object.keys(HostConfig.PortBindings as object).sort()).toEqual(['3000/tcp', '3001/tcp', '3001/udp', '9464/tcp']);
      const hostIps = Object.values(HostConfig.PortBindings as Record<string, Array<{ HostIp: string }>>).flatMap((bindings) =>
        bindings.map((binding) => binding.HostIp),
      );
      expect(new Set(hostIps)).toEqual(new Set(['127.0.0.1']));
      expect(server.getHost()).toBe('127.0.0.1');
    });

    it('connectClient gives a connected typed client of the server, named by withServerName', async () => {
      const hello = await closeAfter(await server.connectClient({ timeoutMs: CALL_TIMEOUT_MS }), (client) => client.hello());

      expect(hello.server).toBe(SERVER_NAME);
      expect(hello.instance).toBe(server.getHostname());
      expect([...hello.patterns.requests].sort()).toEqual([...REQUEST_PATTERNS].sort());
    });

    it('getClientOptions({ protocol: "udp" }) reaches the datagram endpoint on getUdpPort()', async () => {
      const options = server.getClientOptions({ protocol: 'udp', timeoutMs: CALL_TIMEOUT_MS });
      expect(options.port).toBe(server.getUdpPort());

      const reply = await closeAfter(EchoClient.create(options), (client) => client.echo({ text: 'over UDP 你好' }));

      expect(reply.text).toBe('over UDP 你好');
    });

    it('getTextPort() is the plain-text gateway and getHttpUrl() the HTTP side port', async () => {
      const socket = connect({ host: server.getHost(), port: server.getTextPort() });
      try {
        let received = '';
        const echoed = new Promise<void>((resolve) => {
          socket.setEncoding('utf8').on('data', (chunk: string) => {
            received += chunk;
            if (received.includes('hello text door')) resolve();
          });
        });
        socket.on('error', () => undefined); // a failure shows as the timeout below, with what was received
        await withTimeout(once(socket, 'connect'), CALL_TIMEOUT_MS, 'connecting to the text port');
        socket.write('hello text door\n');
        await withTimeout(echoed, CALL_TIMEOUT_MS, 'the text gateway echoing a line').catch((error: Error) => {
          throw new Error(`${error.message}; received ${JSON.stringify(received)}`);
        });
      } finally {
        socket.destroy();
      }

      const response = await fetch(`${server.getHttpUrl()}/healthz`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      expect(response.status).toBe(200);
    });
  });

  describe('withMutualTls', () => {
    const cleanup = new Cleanup();
    let fixtures: TlsFixtures;
    let server: StartedEchoServerContainer;

    beforeAll(async () => {
      fixtures = await createTlsFixtures();
      cleanup.add('TLS fixtures', () => fixtures.remove());
      const { caCert, serverCert, serverKey, clientCert, clientKey } = fixtures.trusted;
      // Healthy means its healthcheck said hello over mutual TLS with the copied files.
      server = await startContainer(
        cleanup,
        echoServerContainer().withMutualTls({
          certFile: serverCert,
          keyFile: serverKey,
          caFile: caCert,
          clientCertFile: clientCert,
          clientKeyFile: clientKey,
        }),
      );
    });

    afterAll(() => cleanup.run());

    it('serves the client of connectClient, which presents its certificate', async () => {
      expect(server.isTls()).toBe(true);

      const reply = await closeAfter(await server.connectClient({ timeoutMs: CALL_TIMEOUT_MS }), (client) =>
        client.echo({ text: 'over mutual TLS' }),
      );

      expect(reply.text).toBe('over mutual TLS');
    });

    it('refuses a plain-TCP client on the same port', async () => {
      const plain = EchoClient.create({
        host: server.getHost(),
        port: server.getTcpPort(),
        timeoutMs: 2_000,
        reconnect: { enabled: false },
      });

      await closeAfter(plain, async (client) =>
        expect((await rejection(client.hello())).code).toMatch(/^(CONNECTION_LOST|CONNECTION_FAILED|TIMEOUT)$/),
      );
    });
  });
});
