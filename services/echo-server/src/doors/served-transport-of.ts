import type { CustomStrategy } from '@nestjs/microservices';
import type { Socket as DgramSocket } from 'node:dgram';
import type { AddressInfo, Server } from 'node:net';
import type { TransportName } from '@echo-pair/common';
import type { ServedTransport } from '../core/served-transport';

/** A transport over a listening `net.Server`; `describe(port)` is its start-up log line. */
export function acceptingConnections(
  name: TransportName,
  strategy: CustomStrategy['strategy'],
  server: Server,
  describe: (port: number) => string,
): ServedTransport {
  const port = (): number => (server.address() as AddressInfo).port;
  return {
    name,
    strategy,
    listening: () => server.listening,
    stopAccepting: () => void server.close(),
    port,
    listeningLine: () => describe(port()),
  };
}

/** A transport over a bound UDP socket: nothing to stop accepting, datagrams get SHUTTING_DOWN until the app closes. */
export function receivingDatagrams(
  name: TransportName,
  strategy: CustomStrategy['strategy'],
  socket: DgramSocket,
  describe: (port: number) => string,
): ServedTransport {
  const port = (): number => socket.address().port;
  return { name, strategy, listening: () => isBound(socket), port, listeningLine: () => describe(port()) };
}

function isBound(socket: DgramSocket): boolean {
  try {
    socket.address(); // throws once closed, or before it is bound
    return true;
  } catch {
    return false;
  }
}
