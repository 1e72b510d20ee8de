// @echo-pair/testcontainers: the echo-server image in users' own tests (docs/testcontainers.md).
export { ECHO_SERVER_STARTUP_TIMEOUT_MS, EchoServerContainer } from './echo-server-container';
export { defaultEchoServerImage, ECHO_SERVER_EXPOSED_PORTS, ECHO_SERVER_IMAGE, EchoServerPorts, LOOPBACK } from './echo-server-ports';
export { CONTAINER_TLS_DIR, type EchoServerMutualTlsFiles, type EchoServerTlsFiles } from './echo-server-tls';
export { type EchoClientOverrides } from './echo-client-options-for';
export { StartedEchoServerContainer, type StartedEchoServerSettings } from './started-echo-server-container';
