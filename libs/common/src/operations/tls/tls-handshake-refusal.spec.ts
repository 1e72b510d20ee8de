import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeTlsClientError, TlsPeerMemory } from './tls-handshake-refusal';

function tlsSocket(fields: Partial<Record<'remoteAddress' | 'remotePort' | 'authorizationError' | '_parent', unknown>>): TLSSocket {
  return fields as unknown as TLSSocket;
}

function sslError(code: string, reason?: string): Error & { code: string; reason?: string } {
  return Object.assign(new Error(`0A00010B:SSL routines::${reason ?? code}`), { code, reason });
}

describe('describeTlsClientError', () => {
  it('explains a plain-TCP client, with its address', () => {
    const refusal = describeTlsClientError(
      sslError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
      tlsSocket({ remoteAddress: '127.0.0.1', remotePort: 5050 }),
    );
    expect(refusal).toEqual({
      peer: '127.0.0.1:5050',
      reason: 'ERR_SSL_WRONG_VERSION_NUMBER',
      detail: 'not a TLS handshake: a plain-TCP client?',
    });
  });

  it('explains a client without a certificate', () => {
    const refusal = describeTlsClientError(
      sslError('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'),
      tlsSocket({ remoteAddress: '::1', remotePort: 6 }),
    );
    expect(refusal).toEqual({
      peer: '[::1]:6',
      reason: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
      detail: 'the client sent no certificate',
    });
  });

  it('takes the reason of a rejected certificate from the failed verification, not the bare ECONNRESET', () => {
    const socket = tlsSocket({ authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const refusal = describeTlsClientError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), socket, () => '127.0.0.1:7');
    expect(refusal).toEqual({
      peer: '127.0.0.1:7',
      reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      detail: 'client certificate rejected: it does not verify against TLS_CA_FILE',
    });
  });

  it('falls back to OpenSSL’s reason, then to the message, for an error it has no words for', () => {
    const socket = tlsSocket({ remoteAddress: '127.0.0.1', remotePort: 1 });
    expect(describeTlsClientError(sslError('ERR_SSL_NO_SHARED_CIPHER', 'no shared cipher'), socket).detail).toBe('no shared cipher');
    expect(describeTlsClientError(new Error('odd'), socket)).toMatchObject({ reason: 'Error', detail: 'odd' });
  });

  it('says "unknown" when no socket knows the peer any more', () => {
    expect(describeTlsClientError(new Error('gone'), tlsSocket({})).peer).toBe('unknown');
  });
});

describe('TlsPeerMemory', () => {
  it('finds the peer of a TLS socket through the TCP socket it wraps', () => {
    const memory = new TlsPeerMemory();
    const tcp = new Socket();
    Object.defineProperties(tcp, { remoteAddress: { value: '10.1.2.3' }, remotePort: { value: 4444 } });
    memory.remember(tcp);
    expect(memory.peerOf(tlsSocket({ _parent: tcp }))).toBe('10.1.2.3:4444');
    expect(memory.peerOf(tlsSocket({ _parent: new Socket() }))).toBeUndefined();
    expect(memory.peerOf(tlsSocket({}))).toBeUndefined();
    tcp.destroy();
  });
});
