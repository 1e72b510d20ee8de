import { Module, type DynamicModule } from '@nestjs/common';
import type { Server } from 'node:net';
import type { EchoServerEnvironment } from '../config/echo-server-environment';
import type { OptionalDoor } from '../core/optional-module';
import { SERVED_TRANSPORTS, type ServedTransport } from '../core/served-transport';
import { EchoServerTcp } from './tcp/echo-server-tcp';
import { TcpTransportModule } from './tcp/tcp-transport.module';
import { acceptingConnections } from './served-transport-of';

/**
 * Nest's TCP transport, then each optional door given (`optional-modules.ts`), as
 * `SERVED_TRANSPORTS` to every module. A door disabled by its setting provides null and is left out.
 */
@Module({})
export class ServedTransportsModule {
  static forRoot(environment: EchoServerEnvironment, doors: readonly OptionalDoor[]): DynamicModule {
    return {
      module: ServedTransportsModule,
      global: true,
      imports: [TcpTransportModule.forRoot(environment), ...doors.map((door) => door.forRoot(environment))],
      providers: [
        {
          provide: SERVED_TRANSPORTS,
          inject: [EchoServerTcp, ...doors.map((door) => door.served)],
          useFactory: (tcp: EchoServerTcp, ...others: (ServedTransport | null)[]): readonly ServedTransport[] => [
            acceptingConnections('tcp', tcp, tcp.unwrap<Server>(), (port) => `listening on ${environment.ECHO_HOST}:${port}`),
            ...others.filter((transport) => transport !== null),
          ],
        },
      ],
      exports: [SERVED_TRANSPORTS],
    };
  }
}
