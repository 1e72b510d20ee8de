import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { StatsModule } from '../../operations/stats/stats.module';
import { StatsService } from '../../operations/stats/stats.service';
import { UdpServer } from './udp.server';

/** The UDP endpoint's strategy, built by Nest with what it reports to; `startEchoServer` connects it to the application. */
@Module({
  imports: [StatsModule],
  providers: [
    {
      provide: UdpServer,
      inject: [ConfigService, StatsService],
      useFactory: (config: ConfigService<EchoServerEnvironment, true>, stats: StatsService): UdpServer =>
        new UdpServer(
          {
            host: config.get('UDP_HOST', { infer: true }) ?? config.get('ECHO_HOST', { infer: true }),
            port: config.get('UDP_PORT', { infer: true }),
            maxDatagramBytes: config.get('UDP_MAX_DATAGRAM_BYTES', { infer: true }),
          },
          {
            datagram: () => stats.recordDatagram(),
            dropped: () => stats.recordDatagramDropped(),
            replyTooLarge: () => stats.recordReplyTooLarge(),
            countError: (code) => stats.recordError(code, 'udp'),
          },
        ),
    },
  ],
  exports: [UdpServer],
})
export class UdpModule {}
