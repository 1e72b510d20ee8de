import { readTlsFiles } from '@echo-pair/common';
import { GenericContainer, Wait } from 'testcontainers';
import { defaultEchoServerImage, ECHO_SERVER_EXPOSED_PORTS, ECHO_SERVER_IMAGE } from './echo-server-ports';
import { tlsSetup, type ClientTlsFiles, type EchoServerMutualTlsFiles, type EchoServerTlsFiles } from './echo-server-tls';
import { onLoopback, type PortBindings } from './loopback-ports';
import { buildHint, explainStartFailure, imageIsLocal } from './missing-image';
import { StartedEchoServerContainer } from './started-echo-server-container';

/**
 * Bound on the start-up: the container is ready when its HEALTHCHECK passes, whose first
 * probe runs 5 s after the start (`--interval=5s`). Change it with `withStartupTimeout`.
 */
export const ECHO_SERVER_STARTUP_TIMEOUT_MS = 90_000;

/** The longest SERVER_NAME the server accepts. */
const MAX_SERVER_NAME_LENGTH = 64;

/**
 * The echo-server image as a Testcontainers module: every port published (on 127.0.0.1 only,
 * by default), ready once the image's own HEALTHCHECK passes. Settings are fluent, as with
 * `GenericContainer`, whose settings (`withEnvironment`, `withNetwork`, `withLabels`, ...) all apply:
 *
 *     const server = await new EchoServerContainer().withServerName('under-test').start();
 *     const client = await server.connectClient();
 */
export class EchoServerContainer extends GenericContainer {
  private loopbackOnly = true;
  private clientTls: ClientTlsFiles | undefined;
  private tlsFilesToCheck: Array<{ certFile?: string; keyFile?: string; caFile?: string }> = [];

  /**
   * `image`: a tag of the Dockerfile's `echo-server` target; by default ECHO_SERVER_IMAGE from the
   * environment, else `echo-pair/echo-server:local` (see `defaultEchoServerImage`).
   */
  constructor(image: string = defaultEchoServerImage()) {
    super(image);
    this.withExposedPorts(...ECHO_SERVER_EXPOSED_PORTS)
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(ECHO_SERVER_STARTUP_TIMEOUT_MS);
  }

  /** The name the server gives in its `hello` welcome, its logs and its metrics (SERVER_NAME, at most 64 characters). */
  withServerName(name: string): this {
    if (name.trim() === '' || name.length > MAX_SERVER_NAME_LENGTH) {
      throw new RangeError(`the server name must be 1 to ${MAX_SERVER_NAME_LENGTH} characters, not ${JSON.stringify(name)}`);
    }
    return this.withEnvironment({ SERVER_NAME: name });
  }

  /**
   * TLS on the framed TCP door: the files are copied under /run/tls and named by TLS_CERT_FILE,
   * TLS_KEY_FILE (and TLS_CA_FILE); clients need no certificate (TLS_REQUIRE_CLIENT_CERT=false).
   * `getClientOptions()` then trusts `caFile`.
   */
  withTls(files: EchoServerTlsFiles): this {
    return this.applyTls(files, false);
  }

  /**
   * Mutual TLS, as docker-compose.tls.yml sets it up: the server refuses clients without a
   * certificate signed by `caFile` (TLS_REQUIRE_CLIENT_CERT=true); `getClientOptions()`
   * presents `clientCertFile`. The server's certificate must allow clientAuth too: its
   * healthcheck presents it (scripts/gen-dev-certs.sh makes such certificates).
   */
  withMutualTls(files: EchoServerMutualTlsFiles): this {
    return this.applyTls(files, true);
  }

  /**
   * Whether the ports are published on 127.0.0.1 only (the default, like the compose file's).
   * `false` publishes them on every interface of the engine's host, which a remote engine
   * (DOCKER_HOST=tcp://...) needs; `getHost()` is then the engine's host.
   */
  withLoopbackOnlyPorts(loopbackOnly: boolean): this {
    this.loopbackOnly = loopbackOnly;
    return this;
  }

  /** Starts the container and waits for its HEALTHCHECK. The local tag `echo-pair/echo-server:local` is never pulled: it is built. */
  override async start(): Promise<StartedEchoServerContainer> {
    // A bad certificate file fails here, naming it, rather than as a container that never gets healthy.
    for (const paths of this.tlsFilesToCheck) {
      readTlsFiles(paths);
    }
    if (this.imageName.string === ECHO_SERVER_IMAGE && (await imageIsLocal(this.imageName)) === false) {
      throw new Error(`the image ${ECHO_SERVER_IMAGE} is not on this Docker engine: ${buildHint(ECHO_SERVER_IMAGE)}`);
    }
    try {
      const started = await super.start();
      return new StartedEchoServerContainer(started, {
        loopbackOnly: this.loopbackOnly,
        ...(this.clientTls ? { tls: this.clientTls } : {}),
      });
    } catch (error) {
      throw await explainStartFailure(this.imageName, error);
    }
  }

  /** Puts every port binding on 127.0.0.1 unless `withLoopbackOnlyPorts(false)`. */
  protected override beforeContainerCreated(): Promise<void> {
    if (this.loopbackOnly) {
      this.hostConfig.PortBindings = onLoopback(this.hostConfig.PortBindings as PortBindings | undefined);
    }
    return Promise.resolve();
  }

  private applyTls(files: EchoServerTlsFiles | EchoServerMutualTlsFiles, mutual: boolean): this {
    if (this.clientTls !== undefined) {
      throw new Error('TLS is already set on this container: call withTls or withMutualTls once');
    }
    const setup = tlsSetup(files, mutual);
    this.clientTls = setup.client;
    this.tlsFilesToCheck = [
      { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile },
      { certFile: setup.client.certFile, keyFile: setup.client.keyFile },
    ];
    return this.withEnvironment(setup.environment).withCopyFilesToContainer(setup.files);
  }
}
