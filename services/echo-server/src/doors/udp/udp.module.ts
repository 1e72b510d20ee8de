import { Module, type DynamicModule } from '@nestjs/common';
import type { Socket as DgramSocket } from 'node:dgram';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import type { ServedTransport } from '../../core/served-transport';
import { StatsService } from '../../operations/stats/stats.service';
import { receivingDatagrams } from '../served-transport-of';
import { UdpServer } from './udp.server';

/** The UDP door (an optional module): its strategy, built with what it reports to, as a `ServedTransport`. */
@Module({})
export class UdpModule {
  /** The UDP door as a `ServedTransport`, or null with UDP_ENABLED=false. */
  static readonly served = Symbol('UDP_SERVED');

  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    const host = environment.UDP_HOST ?? environment.ECHO_HOST;
    return {
      module: UdpModule,
      providers: [
        {
          provide: UdpServer,
          inject: [StatsService],
          useFactory: (stats: StatsService): UdpServer =>
            new UdpServer(
              { host, port: environment.UDP_PORT, maxDatagramBytes: environment.UDP_MAX_DATAGRAM_BYTES },
              {
                datagram: () => stats.recordDatagram(),
                dropped: (reason) => stats.recordDatagramDropped(reason),
                replyTooLarge: () => stats.recordReplyTooLarge(),
                countError: (code) => stats.recordError(code, 'udp'),
              },
            ),
        },
        {
          provide: UdpModule.served,
          inject: [UdpServer],
          useFactory: (udp: UdpServer): ServedTransport | null =>
            environment.UDP_ENABLED
              ? receivingDatagrams(
                  'udp',
                  udp,
                  udp.unwrap<DgramSocket>(),
                  (port) => `UDP on ${host}:${port} (text lines or Nest packets as JSON)`,
                )
              : null,
        },
      ],
      exports: [UdpModule.served],
    };
  }
}
