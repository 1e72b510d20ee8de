import { isIP } from 'node:net';
import { EchoClient, type EchoClientOptions } from '@echo-pair/common';
import { AbstractStartedContainer, type StartedTestContainer } from 'testcontainers';
import { echoClientOptionsFor, type EchoClientOverrides } from './echo-client-options-for';
import { EchoServerPorts, LOOPBACK } from './echo-server-ports';
import type { ClientTlsFiles } from './echo-server-tls';

/** What the started container knows of its settings. */
export interface StartedEchoServerSettings {
  /** The ports were published on 127.0.0.1 only: the host reaches them there. */
  loopbackOnly: boolean;
  /** Set when the server speaks TLS: what its clients need. */
  tls?: ClientTlsFiles;
}

/**
 * A running echo-server container, healthy (its HEALTHCHECK said `hello` through the real
 * framing): where the host reaches each of its doors, and typed clients for it.
 */
export class StartedEchoServerContainer extends AbstractStartedContainer {
  constructor(
    startedTestContainer: StartedTestContainer,
    private readonly settings: StartedEchoServerSettings,
  ) {
    super(startedTestContainer);
  }

  /** Where the published ports are reached: 127.0.0.1 with loopback-only ports (the default), else the engine's host. */
  override getHost(): string {
    return this.settings.loopbackOnly ? LOOPBACK : super.getHost();
  }

  /** The host port of the framed TCP door (3000), the typed client's. */
  getTcpPort(): number {
    return this.getMappedPort(EchoServerPorts.tcp, 'tcp');
  }

  /** The host port of the plain-text gateway (3001/tcp). */
  getTextPort(): number {
    return this.getMappedPort(EchoServerPorts.text, 'tcp');
  }

  /** The host port of the datagram endpoint (3001/udp). */
  getUdpPort(): number {
    return this.getMappedPort(EchoServerPorts.udp, 'udp');
  }

  /** The HTTP side port's base URL (`/metrics`, `/healthz`, `/readyz`), without a trailing slash. */
  getHttpUrl(): string {
    const host = this.getHost();
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${this.getMappedPort(EchoServerPorts.http, 'tcp')}`;
  }

  /** Whether the server speaks TLS on its TCP door (`withTls` or `withMutualTls`). */
  isTls(): boolean {
    return this.settings.tls !== undefined;
  }

  /**
   * Options of `EchoClient.create` for this server from the host: its TCP port and, when it
   * speaks TLS, the TLS options (the CA to trust, the client certificate with mutual TLS).
   * With `{ protocol: 'udp' }`, its UDP port instead. `overrides` are merged last.
   */
  getClientOptions(overrides?: EchoClientOverrides): EchoClientOptions {
    return echoClientOptionsFor(
      { host: this.getHost(), tcpPort: this.getTcpPort(), udpPort: this.getUdpPort() },
      this.settings.tls,
      overrides,
    );
  }

  /** A typed client of this server, connected (or rejected with `CONNECTION_FAILED`). The caller closes it. */
  async connectClient(overrides?: EchoClientOverrides): Promise<EchoClient> {
    const client = EchoClient.create(this.getClientOptions(overrides));
    try {
      await client.connect();
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }
}
