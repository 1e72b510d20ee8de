import { Module, type DynamicModule } from '@nestjs/common';
import { readTlsFiles, serverTlsOptions, tlsFilePathsOf } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { TCP_TLS_OPTIONS, type TcpTlsOptions } from '../../core/tcp-tls';

/**
 * TLS and mutual TLS on Nest's TCP door (an optional module): TLS_CERT_FILE and TLS_KEY_FILE turn
 * it on, TLS_REQUIRE_CLIENT_CERT (default true) with TLS_CA_FILE requires client certificates.
 * The files are read in `forRoot`, so a bad one fails before the application is built.
 */
@Module({})
export class TlsModule {
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    return {
      module: TlsModule,
      global: true,
      providers: [{ provide: TCP_TLS_OPTIONS, useValue: tlsOptionsOf(environment) }],
      exports: [TCP_TLS_OPTIONS],
    };
  }
}

function tlsOptionsOf(environment: EchoServerEnvironment): TcpTlsOptions {
  if (environment.TLS_CERT_FILE === undefined) {
    return null;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return serverTlsOptions(material, { requireClientCert: environment.TLS_REQUIRE_CLIENT_CERT });
}
