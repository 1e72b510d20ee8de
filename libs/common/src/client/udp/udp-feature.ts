import { registerTransport } from '../feature-registry';
import { propagatingTraceContext } from '../propagating-trace-context';
import { EchoClientUdp } from './echo-client-udp';

/** `protocol: 'udp'`: JSON datagrams, one address (the datagram socket resolves the name). */
registerTransport('udp', (options) => {
  // Falling back to plain text would be worse than no client.
  if (options.transport?.tlsOptions !== undefined) {
    throw new Error('TLS needs protocol "tcp": the UDP transport has no TLS');
  }
  return propagatingTraceContext(new EchoClientUdp({ ...options.udp, host: options.host, port: options.port }));
});
