import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { TlsOptions } from 'node:tls';
import { readTlsFiles, serverTlsOptions, tlsFilePathsOf } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { ConnectionsModule } from '../../operations/connections/connections.module';
import { ConnectionTracker } from '../../operations/connections/connection-tracker.service';
import { EchoServerTcp, type EchoServerTcpOptions } from './echo-server-tcp';

/**
 * Nest's TCP transport of the server from the environment: the address, TLS, the framed socket's
 * limits, the request rules (every frame must name a pattern; MAX_IN_FLIGHT_PER_CONNECTION),
 * MAX_CONNECTIONS and ECHO_FAST_PATH. Reads the TLS files: a bad one is a configuration error.
 */
export function tcpServerOptionsOf(environment: EchoServerEnvironment): EchoServerTcpOptions {
  const tlsOptions = tlsOptionsOf(environment);
  return {
    host: environment.ECHO_HOST,
    port: environment.ECHO_PORT,
    ...(tlsOptions === undefined ? {} : { tlsOptions }),
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
    fastPath: environment.ECHO_FAST_PATH,
  };
}

/** The start-up line naming the path the TCP door runs (docs/performance.md). */
export function fastPathLogLine(fastPath: boolean): string {
  return fastPath ? 'Nest TCP: fast path (ECHO_FAST_PATH=true)' : 'Nest TCP: stock Nest paths (ECHO_FAST_PATH=false)';
}

/** TLS from TLS_* (validated together), its files read and checked now. */
function tlsOptionsOf(environment: EchoServerEnvironment): TlsOptions | undefined {
  if (environment.TLS_CERT_FILE === undefined) {
    return undefined;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return serverTlsOptions(material, { requireClientCert: environment.TLS_REQUIRE_CLIENT_CERT });
}

/**
 * The TCP transport's strategy, built by Nest with what it reports to (the connection tracker);
 * `startEchoServer` connects it to the application, as it does the text gateway and UDP.
 */
@Module({})
export class TcpTransportModule {
  /** Its options are read at once, so that a bad TLS file fails before the application is built, as any bad setting does. */
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    const options = tcpServerOptionsOf(environment);
    return {
      module: TcpTransportModule,
      imports: [ConnectionsModule],
      providers: [
        {
          provide: EchoServerTcp,
          inject: [ConnectionTracker],
          useFactory: (connections: ConnectionTracker): EchoServerTcp => {
            const server = new EchoServerTcp(options, {
              opened: (socket) => connections.track(socket, 'tcp'),
              dropped: (peer) => connections.dropped(peer, environment.MAX_CONNECTIONS),
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
