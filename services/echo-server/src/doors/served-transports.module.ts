import { Module, type DynamicModule } from '@nestjs/common';
import type { CustomStrategy } from '@nestjs/microservices';
import type { Socket as DgramSocket } from 'node:dgram';
import type { Server } from 'node:net';
import type { TransportName } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../config/echo-server-environment';
import { TextGatewayModule } from './text-gateway/text-gateway.module';
import { TextGatewayServer } from './text-gateway/text-gateway.server';
import { UdpModule } from './udp/udp.module';
import { UdpServer } from './udp/udp.server';
import { EchoServerTcp } from './tcp/echo-server-tcp';
import { SERVED_TRANSPORTS, type ServedTransport } from '../core/served-transport';
import { TcpTransportModule } from './tcp/tcp-transport.module';

/** Nest's TCP transport, the text gateway (TEXT_ENABLED) and UDP (UDP_ENABLED), as `SERVED_TRANSPORTS` to every module. */
@Module({})
export class ServedTransportsModule {
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    return {
      module: ServedTransportsModule,
      global: true,
      imports: [TcpTransportModule.forRoot(environment), TextGatewayModule, UdpModule],
      providers: [
        {
          provide: SERVED_TRANSPORTS,
          inject: [EchoServerTcp, TextGatewayServer, UdpServer],
          useFactory: (tcp: EchoServerTcp, text: TextGatewayServer, udp: UdpServer): readonly ServedTransport[] => [
            acceptingConnections('tcp', tcp, tcp.unwrap<Server>()),
            ...(environment.TEXT_ENABLED ? [acceptingConnections('text', text, text.unwrap<Server>())] : []),
            ...(environment.UDP_ENABLED
              ? [{ name: 'udp' as const, strategy: udp, listening: () => isBound(udp.unwrap<DgramSocket>()) }]
              : []),
          ],
        },
      ],
      exports: [SERVED_TRANSPORTS],
    };
  }
}

function acceptingConnections(name: TransportName, strategy: CustomStrategy['strategy'], server: Server): ServedTransport {
  return { name, strategy, listening: () => server.listening, stopAccepting: () => void server.close() };
}

function isBound(socket: DgramSocket): boolean {
  try {
    socket.address(); // throws once closed, or before it is bound
    return true;
  } catch {
    return false;
  }
}
