import type { EchoClientOptions } from '../echo-client-options';
import { registerBalancing } from '../feature-registry';
import { BalancedPool } from './balanced-pool';

/** Client-side balancing: a TCP client of a name gets a connection per address, and spreads its calls. */
registerBalancing({
  discovery: (options, tcpProxy) => ({ createProxy: (address) => tcpProxy(replicaOptions(options, address)) }),
  pool: (discovery, settings) => new BalancedPool(discovery, settings),
});

/**
 * The options of one replica's proxy: its address instead of the name. Over TLS the server's
 * certificate is still checked against the name (sent as SNI), unless a name was set already.
 */
function replicaOptions(options: EchoClientOptions, address: string): EchoClientOptions {
  const tlsOptions = options.transport?.tlsOptions;
  if (tlsOptions === undefined || tlsOptions.servername !== undefined || tlsOptions.checkServerIdentity !== undefined) {
    return { ...options, host: address };
  }
  return { ...options, host: address, transport: { ...options.transport, tlsOptions: { ...tlsOptions, servername: options.host } } };
}
