import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { TCP_TLS_OPTIONS, type TcpTlsOptions } from '../../core/tcp-tls';
import { ConnectionsModule } from '../../operations/connections/connections.module';
import { ConnectionTracker } from '../../operations/connections/connection-tracker.service';
import { EchoServerTcp, type EchoServerTcpOptions } from './echo-server-tcp';
import { proxyHeaderReaderOf } from '../proxy-protocol/proxy-header-reader';

/**
 * Nest's TCP transport of the server from the environment: the address, TLS (given by the TLS
 * module), the framed socket's limits, the request rules (every frame must name a pattern;
 * MAX_IN_FLIGHT_PER_CONNECTION), MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS and ECHO_FAST_PATH.
 */
function tcpServerOptionsOf(environment: EchoServerEnvironment, tlsOptions: TcpTlsOptions | undefined): EchoServerTcpOptions {
  if (environment.TLS_CERT_FILE !== undefined && tlsOptions == null) {
    // Serving plain TCP when TLS was asked for would be a silent downgrade.
    throw new Error('TLS_CERT_FILE is set, but this server has no TLS module (doors/tls, optional-modules.ts)');
  }
  return {
    host: environment.ECHO_HOST,
    port: environment.ECHO_PORT,
    ...(tlsOptions == null ? {} : { tlsOptions }),
    framing: {
      maxFrameLength: environment.MAX_MESSAGE_LENGTH,
      incompleteFrameTimeoutMs: environment.INCOMPLETE_MESSAGE_TIMEOUT_MS,
      maxBufferedBytes: environment.MAX_BUFFERED_BYTES,
      maxSendBufferBytes: environment.MAX_SEND_BUFFER_BYTES,
      noDelay: environment.TCP_NO_DELAY,
    },
    maxInFlight: environment.MAX_IN_FLIGHT_PER_CONNECTION,
    requirePattern: true,
    maxConnections: environment.MAX_CONNECTIONS,
    maxConnectionsPerAddress: environment.MAX_CONNECTIONS_PER_ADDRESS,
    ...(environment.PROXY_PROTOCOL ? { proxyHeaders: proxyHeaderReaderOf(environment) } : {}),
    fastPath: environment.ECHO_FAST_PATH,
  };
}

/** The start-up line naming the path the TCP door runs (docs/performance.md). */
function fastPathLogLine(fastPath: boolean): string {
  return fastPath ? 'Nest TCP: fast path (ECHO_FAST_PATH=true)' : 'Nest TCP: stock Nest paths (ECHO_FAST_PATH=false)';
}

/**
 * The TCP transport's strategy, built by Nest with what it reports to (the connection tracker);
 * `startEchoServer` connects it to the application, as it does the text gateway and UDP.
 */
@Module({})
export class TcpTransportModule {
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    return {
      module: TcpTransportModule,
      imports: [ConnectionsModule],
      providers: [
        {
          provide: EchoServerTcp,
          inject: [ConnectionTracker, { token: TCP_TLS_OPTIONS, optional: true }],
          useFactory: (connections: ConnectionTracker, tlsOptions?: TcpTlsOptions): EchoServerTcp => {
            const server = new EchoServerTcp(tcpServerOptionsOf(environment, tlsOptions), {
              opened: (socket) => connections.track(socket, 'tcp'),
              refused: (refusal) => connections.refused(refusal),
              evicted: (eviction) => connections.evicted(eviction),
              rejected: (rejection) => connections.rejected(rejection),
              tlsRefused: (refusal) => connections.tlsRefused(refusal),
            });
            new Logger(EchoServerTcp.name).log(fastPathLogLine(server.fastPath));
            return server;
          },
        },
      ],
      exports: [EchoServerTcp],
    };
  }
}
