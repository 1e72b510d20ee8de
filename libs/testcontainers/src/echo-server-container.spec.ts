import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidConfigurationError, RpcClientError } from '@echo-pair/common';
import type { StartedTestContainer } from 'testcontainers';
import { freePort } from '../../../test/support/loopback-port';
import { createTlsFixtures, type TlsFixtures } from '../../../test/support/tls-fixtures';
import { EchoServerContainer } from './echo-server-container';
import { defaultEchoServerImage, ECHO_SERVER_IMAGE } from './echo-server-ports';
import { tlsSetup } from './echo-server-tls';
import { onLoopback } from './loopback-ports';
import { StartedEchoServerContainer, type StartedEchoServerSettings } from './started-echo-server-container';

/** What a started container would report, without Docker: the engine's host and the published ports. */
function fakeStarted(ports: Record<string, number>, engineHost = 'localhost'): StartedTestContainer {
  return {
    getHost: () => engineHost,
    getMappedPort: (port: number, protocol = 'tcp') => {
      const mapped = ports[`${port}/${protocol}`];
      if (mapped === undefined) throw new Error(`No port binding found for :${port}/${protocol}`);
      return mapped;
    },
  } as unknown as StartedTestContainer;
}

const PORTS = { '3000/tcp': 40000, '3001/tcp': 40001, '3001/udp': 40002, '9464/tcp': 40003 };

function started(settings: StartedEchoServerSettings, ports = PORTS, engineHost?: string): StartedEchoServerContainer {
  return new StartedEchoServerContainer(fakeStarted(ports, engineHost), settings);
}

/** The container's settings as they would go to the engine, read through its protected fields. */
class InspectedContainer extends EchoServerContainer {
  get image(): string {
    return this.imageName.string;
  }
  get env(): Record<string, string> {
    return this.environment;
  }
  get exposed(): string[] {
    return Object.keys(this.createOpts.ExposedPorts ?? {}).sort();
  }
  get labels(): Record<string, string> {
    return this.createOpts.Labels ?? {};
  }
  get copies(): Array<{ source: string; target: string; mode?: number }> {
    return this.filesToCopy;
  }
  get waitStrategyName(): string | undefined {
    return this.waitStrategy?.constructor.name;
  }
  get timeoutMs(): number | undefined {
    return this.startupTimeoutMs;
  }
  /** The port bindings as `start()` would create the container with them. */
  async bindingsAtCreation(): Promise<unknown> {
    await this.beforeContainerCreated();
    return this.hostConfig.PortBindings;
  }
}

describe('EchoServerContainer settings (no Docker)', () => {
  it('defaults: the local image, every port of the image, the HEALTHCHECK as wait strategy', () => {
    const set = process.env.ECHO_SERVER_IMAGE;
    delete process.env.ECHO_SERVER_IMAGE; // the containers project's global setup sets it for its run
    let container: InspectedContainer;
    try {
      container = new InspectedContainer();
    } finally {
      if (set !== undefined) process.env.ECHO_SERVER_IMAGE = set;
    }

    expect(container.image).toBe(ECHO_SERVER_IMAGE);
    expect(container.exposed).toEqual(['3000/tcp', '3001/tcp', '3001/udp', '9464/tcp']);
    expect(container.waitStrategyName).toBe('HealthCheckWaitStrategy');
    expect(container.timeoutMs).toBe(90_000);
    expect(container.env).toEqual({});
    expect(new InspectedContainer('registry.example/echo-server:1.2').image).toBe('registry.example/echo-server:1.2');
  });

  it('the default image is ECHO_SERVER_IMAGE when set, as for the compose file', () => {
    expect(defaultEchoServerImage({ ECHO_SERVER_IMAGE: 'registry.example/echo-server:1.2' })).toBe('registry.example/echo-server:1.2');
    expect(defaultEchoServerImage({ ECHO_SERVER_IMAGE: '' })).toBe('echo-pair/echo-server:local');
    expect(defaultEchoServerImage({})).toBe('echo-pair/echo-server:local');
  });

  it('publishes on 127.0.0.1 only unless told otherwise, keeping fixed host ports', async () => {
    const loopback = new InspectedContainer().withExposedPorts({ container: 3000, host: 45678 });
    expect(await loopback.bindingsAtCreation()).toEqual({
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '45678' }],
      '3001/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }],
      '3001/udp': [{ HostIp: '127.0.0.1', HostPort: '0' }],
      '9464/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }],
    });

    const everywhere = new InspectedContainer().withLoopbackOnlyPorts(false);
    expect(await everywhere.bindingsAtCreation()).toMatchObject({ '3000/tcp': [{ HostPort: '0' }] });
    expect(JSON.stringify(await everywhere.bindingsAtCreation())).not.toContain('HostIp');
  });

  it('onLoopback returns new bindings and leaves its input alone', () => {
    const input = { '3000/tcp': [{ HostPort: '0' }], '3001/udp': undefined };
    expect(onLoopback(input)).toEqual({ '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }], '3001/udp': undefined });
    expect(input).toEqual({ '3000/tcp': [{ HostPort: '0' }], '3001/udp': undefined });
    expect(onLoopback(undefined)).toEqual({});
  });

  it('withServerName sets SERVER_NAME and refuses what the server would refuse; inherited settings still apply', () => {
    const container = new InspectedContainer()
      .withServerName('under-test')
      .withEnvironment({ LOG_LEVEL: 'warn' })
      .withLabels({ 'example.run': 'r1' });

    expect(container.env).toEqual({ SERVER_NAME: 'under-test', LOG_LEVEL: 'warn' });
    expect(container.labels).toEqual({ 'example.run': 'r1' });
    expect(() => new EchoServerContainer().withServerName('')).toThrow(RangeError);
    expect(() => new EchoServerContainer().withServerName('x'.repeat(65))).toThrow(/1 to 64 characters/);
  });

  it('withTls copies the server files under /run/tls and sets TLS_* without requiring client certificates', () => {
    const container = new InspectedContainer().withTls({ certFile: '/h/server.crt', keyFile: '/h/server.key', caFile: '/h/ca.crt' });

    expect(container.env).toEqual({
      TLS_CERT_FILE: '/run/tls/server.crt',
      TLS_KEY_FILE: '/run/tls/server.key',
      TLS_CA_FILE: '/run/tls/ca.crt',
      TLS_REQUIRE_CLIENT_CERT: 'false',
    });
    expect(container.copies).toEqual([
      { source: '/h/server.crt', target: '/run/tls/server.crt', mode: 0o644 },
      { source: '/h/server.key', target: '/run/tls/server.key', mode: 0o644 },
      { source: '/h/ca.crt', target: '/run/tls/ca.crt', mode: 0o644 },
    ]);
    expect(() => container.withTls({ certFile: 'a', keyFile: 'b' })).toThrow(/already set/);
  });

  it('tlsSetup: one-way TLS without a CA trusts the system CAs; mutual TLS gives the client its certificate', () => {
    const oneWay = tlsSetup({ certFile: 's.crt', keyFile: 's.key' }, false);
    expect(oneWay.environment).toEqual({
      TLS_CERT_FILE: '/run/tls/server.crt',
      TLS_KEY_FILE: '/run/tls/server.key',
      TLS_REQUIRE_CLIENT_CERT: 'false',
    });
    expect(oneWay.files.map((file) => file.source)).toEqual(['s.crt', 's.key']);
    expect(oneWay.client).toEqual({});

    const mutual = tlsSetup(
      {
        certFile: 's.crt',
        keyFile: 's.key',
        caFile: 'ca.crt',
        clientCertFile: 'c.crt',
        clientKeyFile: 'c.key',
        certificateName: 'echo-server',
      },
      true,
    );
    expect(mutual.environment).toMatchObject({ TLS_CA_FILE: '/run/tls/ca.crt', TLS_REQUIRE_CLIENT_CERT: 'true' });
    // The client's key is never copied into the server.
    expect(mutual.files.map((file) => file.source)).toEqual(['s.crt', 's.key', 'ca.crt']);
    expect(mutual.client).toEqual({ caFile: 'ca.crt', certFile: 'c.crt', keyFile: 'c.key', certificateName: 'echo-server' });
    expect(() => tlsSetup({ certFile: 's.crt', keyFile: 's.key' }, true)).toThrow(/mutual TLS needs/);
  });

  it('start() checks the TLS files first, naming the unusable one, before it needs Docker', async () => {
    const container = new EchoServerContainer().withMutualTls({
      certFile: '/nonexistent/server.crt',
      keyFile: '/nonexistent/server.key',
      caFile: '/nonexistent/ca.crt',
      clientCertFile: '/nonexistent/client.crt',
      clientKeyFile: '/nonexistent/client.key',
    });

    await expect(container.start()).rejects.toThrow(InvalidConfigurationError);
    await expect(container.start()).rejects.toThrow(/\/nonexistent\/server\.crt/);
  });
});

describe('StartedEchoServerContainer (a fake started container, no Docker)', () => {
  it('reaches the published ports on 127.0.0.1, or on the engine host when they are published everywhere', () => {
    const server = started({ loopbackOnly: true });

    expect(server.getHost()).toBe('127.0.0.1');
    expect([server.getTcpPort(), server.getTextPort(), server.getUdpPort()]).toEqual([40000, 40001, 40002]);
    expect(server.getHttpUrl()).toBe('http://127.0.0.1:40003');
    expect(server.isTls()).toBe(false);
    expect(started({ loopbackOnly: false }, PORTS, 'docker.internal').getHttpUrl()).toBe('http://docker.internal:40003');
    expect(started({ loopbackOnly: false }, PORTS, '::1').getHttpUrl()).toBe('http://[::1]:40003');
  });

  it('client options: TCP port without TLS, the UDP port with protocol udp, overrides kept', () => {
    const server = started({ loopbackOnly: true });

    expect(server.getClientOptions()).toEqual({ host: '127.0.0.1', port: 40000 });
    expect(server.getClientOptions({ timeoutMs: 2_000, retry: true })).toEqual({
      host: '127.0.0.1',
      port: 40000,
      timeoutMs: 2_000,
      retry: true,
    });
    expect(server.getClientOptions({ protocol: 'udp' })).toEqual({ host: '127.0.0.1', port: 40002, protocol: 'udp' });
  });

  describe('with TLS (certificates of scripts/gen-dev-certs.sh)', () => {
    let fixtures: TlsFixtures;

    beforeAll(async () => {
      fixtures = await createTlsFixtures();
    }, 30_000);

    afterAll(async () => {
      await fixtures?.remove();
    });

    it('one-way TLS: the client trusts the CA, presents no certificate, checks the name it connects to', () => {
      const { caCert, serverCert, serverKey } = fixtures.trusted;
      const server = started({
        loopbackOnly: true,
        tls: tlsSetup({ certFile: serverCert, keyFile: serverKey, caFile: caCert }, false).client,
      });

      const { transport, ...rest } = server.getClientOptions({ transport: { maxBufferSize: 1024 } });
      expect(rest).toEqual({ host: '127.0.0.1', port: 40000 });
      expect(transport).toMatchObject({ maxBufferSize: 1024, tlsOptions: { rejectUnauthorized: true, minVersion: 'TLSv1.2' } });
      const tlsOptions = (transport as { tlsOptions: Record<string, unknown> }).tlsOptions;
      expect(String(tlsOptions.ca)).toContain('BEGIN CERTIFICATE');
      expect(tlsOptions.cert).toBeUndefined();
      expect(tlsOptions.servername).toBeUndefined();
      expect(server.isTls()).toBe(true);
    });

    it('mutual TLS: the client presents its certificate and checks the name given', () => {
      const { caCert, serverCert, serverKey, clientCert, clientKey } = fixtures.trusted;
      const files = { certFile: serverCert, keyFile: serverKey, caFile: caCert, clientCertFile: clientCert, clientKeyFile: clientKey };
      const server = started({ loopbackOnly: true, tls: tlsSetup({ ...files, certificateName: 'echo-server' }, true).client });

      const tlsOptions = (server.getClientOptions().transport as { tlsOptions: Record<string, unknown> }).tlsOptions;
      expect(String(tlsOptions.cert)).toContain('BEGIN CERTIFICATE');
      expect(String(tlsOptions.key)).toContain('PRIVATE KEY');
      expect(tlsOptions.servername).toBe('echo-server');
      // UDP has no TLS: its options carry none.
      expect(server.getClientOptions({ protocol: 'udp' }).transport).toBeUndefined();
    });

    it('a client key that is not its certificate fails with the file named', () => {
      const { caCert, serverCert, serverKey, clientCert } = fixtures.trusted;
      const files = { certFile: serverCert, keyFile: serverKey, caFile: caCert, clientCertFile: clientCert, clientKeyFile: serverKey };
      const server = started({ loopbackOnly: true, tls: tlsSetup(files, true).client });

      expect(() => server.getClientOptions()).toThrow(InvalidConfigurationError);
      expect(() => server.getClientOptions()).toThrow(/is not the key of the certificate/);
    });
  });

  describe('connectClient, against plain TCP listeners on loopback', () => {
    let listener: Server;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      listener = createServer((socket) => {
        sockets.add(socket);
        socket.on('end', () => socket.end());
        socket.on('close', () => sockets.delete(socket));
      }).listen(0, '127.0.0.1');
      await once(listener, 'listening');
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      listener.close();
      await once(listener, 'close');
    });

    it('resolves with a connected client, which the caller closes', async () => {
      const { port } = listener.address() as { port: number };
      const client = await started({ loopbackOnly: true }, { ...PORTS, '3000/tcp': port }).connectClient({ timeoutMs: 2_000 });
      try {
        expect(client.connectionInfo()).toMatchObject({ state: 'connected' });
      } finally {
        await client.close();
      }
    });

    it('rejects with CONNECTION_FAILED when nothing listens, leaving nothing open', async () => {
      const port = await freePort();
      const connecting = started({ loopbackOnly: true }, { ...PORTS, '3000/tcp': port }).connectClient({ timeoutMs: 2_000 });

      await expect(connecting).rejects.toBeInstanceOf(RpcClientError);
      await expect(connecting).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    });
  });
});
