/**
 * The ports the echo-server image listens on (its `EXPOSE 3000 3001 3001/udp 9464`), the
 * Dockerfile's ECHO_PORT, TEXT_PORT, UDP_PORT and METRICS_PORT.
 */
export const EchoServerPorts = {
  /** Nest's framed TCP: the typed `EchoClient`. */
  tcp: 3000,
  /** The plain-text line gateway over TCP (`nc`, tutorial clients, chat). */
  text: 3001,
  /** Text lines and JSON packets as datagrams (`EchoClient` with `protocol: 'udp'`). */
  udp: 3001,
  /** HTTP: `/metrics`, `/healthz`, `/readyz`. */
  http: 9464,
} as const;

/** What `EchoServerContainer` publishes by default: every port of the image. */
export const ECHO_SERVER_EXPOSED_PORTS = [
  EchoServerPorts.tcp,
  EchoServerPorts.text,
  `${EchoServerPorts.udp}/udp`,
  EchoServerPorts.http,
] as const;

/**
 * The image's local tag, the one that `docker compose build` gives it (docker-compose.yml's
 * default ECHO_SERVER_IMAGE). It is built, never pulled:
 * `docker build --target echo-server -t echo-pair/echo-server:local .` (docs/testcontainers.md).
 */
export const ECHO_SERVER_IMAGE = 'echo-pair/echo-server:local';

/**
 * The image `new EchoServerContainer()` starts: ECHO_SERVER_IMAGE from the environment when set
 * (as the compose file and the Swarm stack read it: an image pushed to a registry, or the one a
 * test run built), else the local tag `echo-pair/echo-server:local`.
 */
export function defaultEchoServerImage(environment: NodeJS.ProcessEnv = process.env): string {
  return environment.ECHO_SERVER_IMAGE || ECHO_SERVER_IMAGE;
}

/** Where ports are published by default, and where the host reaches them: IPv4 loopback. */
export const LOOPBACK = '127.0.0.1';
