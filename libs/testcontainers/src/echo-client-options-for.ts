import { clientTlsOptions, readTlsFiles, type EchoClientOptions } from '@echo-pair/common';
import type { ClientTlsFiles } from './echo-server-tls';

/** Where the host reaches a started server: its address and its published TCP and UDP ports. */
export interface EchoServerEndpoint {
  host: string;
  tcpPort: number;
  udpPort: number;
}

/** What a caller may set of `EchoClientOptions`; the host and the port come from the container. */
export type EchoClientOverrides = Partial<Omit<EchoClientOptions, 'host' | 'port'>>;

/**
 * `EchoClient.create`'s options for the server at `endpoint`: its TCP port, with TLS options
 * read from `tls`'s files when the server speaks TLS, or its UDP port with `protocol: 'udp'`
 * (plain datagrams: no TLS). `overrides` come last; their `transport` is merged into the TLS one.
 * Throws `InvalidConfigurationError` naming a TLS file that cannot be used.
 */
export function echoClientOptionsFor(
  endpoint: EchoServerEndpoint,
  tls: ClientTlsFiles | undefined,
  overrides: EchoClientOverrides = {},
): EchoClientOptions {
  if (overrides.protocol === 'udp') {
    return { ...overrides, host: endpoint.host, port: endpoint.udpPort };
  }
  const options: EchoClientOptions = { ...overrides, host: endpoint.host, port: endpoint.tcpPort };
  if (tls !== undefined) {
    const material = readTlsFiles({ caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile });
    const tlsOptions = clientTlsOptions(material, tls.certificateName === undefined ? {} : { serverName: tls.certificateName });
    options.transport = { tlsOptions, ...overrides.transport };
  }
  return options;
}
