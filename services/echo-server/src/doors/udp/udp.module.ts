import { Module, type DynamicModule } from '@nestjs/common';
import type { Socket as DgramSocket } from 'node:dgram';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import type { ServedTransport } from '../../core/served-transport';
import { StatsService } from '../../operations/stats/stats.service';
import { receivingDatagrams } from '../served-transport-of';
import { UdpServer } from './udp.server';

/**
 * SO_RCVBUF the UDP door asks for: room for a burst of small datagrams while the event loop is
 * busy. Linux's default (net.core.rmem_default, often 208 KiB) overflowed under the bench's 256
 * datagrams in flight (1.2 to 1.7% lost, issue 20); 1 MiB lost none there, and bounds the queue
 * (some 1,500 small datagrams, under 0.1 s at 20,000/s) where 4 MiB would let latency grow instead.
 * Linux caps it at net.core.rmem_max, inside a container too; what was granted is in the start-up
 * line, and what still overflowed in `echo_server_udp_kernel_drops_total`.
 */
const UDP_RECEIVE_BUFFER_BYTES = 1024 * 1024;

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
          useFactory: (stats: StatsService): UdpServer => {
            const udp = new UdpServer(
              {
                host,
                port: environment.UDP_PORT,
                maxDatagramBytes: environment.UDP_MAX_DATAGRAM_BYTES,
                receiveBufferBytes: UDP_RECEIVE_BUFFER_BYTES,
                fastPath: environment.ECHO_FAST_PATH,
              },
              {
                datagram: () => stats.recordDatagram(),
                dropped: (reason) => stats.recordDatagramDropped(reason),
                replyTooLarge: () => stats.recordReplyTooLarge(),
                countError: (code) => stats.recordError(code, 'udp'),
              },
            );
            stats.readUdpKernelDropsWith(() => udp.kernelDroppedDatagrams());
            return udp;
          },
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
                  (port) => `UDP on ${host}:${port} (text lines or Nest packets as JSON; ${receiveBufferLine(udp)})`,
                )
              : null,
        },
      ],
      exports: [UdpModule.served],
    };
  }
}

/** SO_RCVBUF as asked and as Linux reports it (twice what it grants: the kernel's bookkeeping counts too). */
function receiveBufferLine(udp: UdpServer): string {
  return `receive buffer ${udp.receiveBufferBytes() ?? 'unknown'} bytes as the kernel reports it, ${UDP_RECEIVE_BUFFER_BYTES} asked`;
}
