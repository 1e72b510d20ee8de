/**
 * The client's optional capabilities, one folder and one line each: a folder deleted with its
 * line here leaves a client that builds without it.
 *
 * - `balancing/`: a `host` name over TCP resolves to every address it has, one connection each,
 *   calls spread over them. Without it, every host is one connection, as an IP address is (the
 *   socket resolves the name, and reconnects as ever); `resolveIntervalMs` and `resolver` go unused.
 * - `udp/`: `protocol: 'udp'`. Without it, `EchoClient.create` with `protocol: 'udp'` throws.
 */
export * from './balancing/balancing-feature';
export * from './udp/udp-feature';
