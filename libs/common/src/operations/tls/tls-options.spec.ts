import { TLS_HANDSHAKE_TIMEOUT_MS, clientTlsOptions, serverTlsOptions } from './tls-options';
import type { PeerCertificate } from 'node:tls';

const material = { cert: 'CERT', key: 'KEY', ca: 'CA' };

describe('serverTlsOptions', () => {
  it('requires and verifies client certificates for mutual TLS, from TLS 1.2 up', () => {
    expect(serverTlsOptions(material, { requireClientCert: true })).toEqual({
      cert: 'CERT',
      key: 'KEY',
      ca: 'CA',
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    });
  });

  it('asks for no client certificate otherwise', () => {
    expect(serverTlsOptions({ cert: 'CERT', key: 'KEY' }, { requireClientCert: false, handshakeTimeoutMs: 500 })).toEqual({
      cert: 'CERT',
      key: 'KEY',
      requestCert: false,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      handshakeTimeout: 500,
    });
  });

  it.each([
    { given: { key: 'KEY', ca: 'CA' }, requireClientCert: false, error: /certificate and its key/ },
    { given: { cert: 'CERT', key: 'KEY' }, requireClientCert: true, error: /needs the CA/ },
  ])('refuses incomplete material: $given', ({ given, requireClientCert, error }) => {
    expect(() => serverTlsOptions(given, { requireClientCert })).toThrow(error);
  });
});

describe('clientTlsOptions', () => {
  it('always verifies the server, presenting the client certificate when there is one', () => {
    expect(clientTlsOptions(material)).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    expect(clientTlsOptions({ ca: 'CA' })).toEqual({ ca: 'CA', rejectUnauthorized: true, minVersion: 'TLSv1.2' });
  });

  it('sends a DNS server name as SNI, which the certificate is then checked against', () => {
    expect(clientTlsOptions(material, { serverName: 'echo-server' })).toMatchObject({ servername: 'echo-server' });
  });

  it('checks an IP server name without sending it as SNI', () => {
    const options = clientTlsOptions(material, { serverName: '10.0.0.7' });
    expect(options.servername).toBeUndefined();
    const certificate = { subject: { CN: 'x' }, subjectaltname: 'IP Address:10.0.0.7' } as unknown as PeerCertificate;
    expect(options.checkServerIdentity?.('127.0.0.1', certificate)).toBeUndefined();
    expect(options.checkServerIdentity?.('127.0.0.1', { ...certificate, subjectaltname: 'IP Address:10.0.0.8' })).toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('can skip only the name check, for a probe of its own process', () => {
    const options = clientTlsOptions(material, { skipServerIdentity: true });
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.checkServerIdentity?.('127.0.0.1', {} as PeerCertificate)).toBeUndefined();
  });
});
