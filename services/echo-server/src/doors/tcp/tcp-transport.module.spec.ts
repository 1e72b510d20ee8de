import { Test } from '@nestjs/testing';
import { validatedConfigModule, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { TCP_TLS_OPTIONS } from '../../core/tcp-tls';
import { StatsModule } from '../../operations/stats/stats.module';
import { EchoServerTcp } from './echo-server-tcp';
import { TcpTransportModule } from './tcp-transport.module';

// Never read: the refusal comes before any file is opened.
const TLS_ENV = { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem', TLS_REQUIRE_CLIENT_CERT: 'false' };

async function tcpDoorOf(env: Record<string, string>, tls?: object | null): Promise<EchoServerTcp> {
  const environment = validateEnvironment(EchoServerEnvironment, { ECHO_HOST: '127.0.0.1', ECHO_PORT: '0', ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [
      validatedConfigModule(environment),
      StatsModule,
      TcpTransportModule.forRoot(environment),
      // What the TLS module provides, as it does it: a global TCP_TLS_OPTIONS.
      ...(tls === undefined
        ? []
        : [{ module: TlsStandIn, global: true, providers: [{ provide: TCP_TLS_OPTIONS, useValue: tls }], exports: [TCP_TLS_OPTIONS] }]),
    ],
  }).compile();
  return moduleRef.get(EchoServerTcp);
}

class TlsStandIn {}

describe('TcpTransportModule', () => {
  it('serves plain TCP without the TLS module and without TLS settings', async () => {
    expect((await tcpDoorOf({})).security).toBe('TCP');
  });

  it('refuses to start when TLS_CERT_FILE is set but the TLS module is not there (no silent downgrade to plain TCP)', async () => {
    await expect(tcpDoorOf(TLS_ENV)).rejects.toThrow(
      'TLS_CERT_FILE is set, but this server has no TLS module (doors/tls, optional-modules.ts)',
    );
  });

  it('takes its TLS options from the TLS module when one provides them', async () => {
    expect((await tcpDoorOf(TLS_ENV, { requestCert: true })).security).toBe('mutual TLS');
  });
});
