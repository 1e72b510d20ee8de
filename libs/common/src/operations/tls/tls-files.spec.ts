import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTlsFixtures, type TlsFixtures } from '../../../../../test/support/tls-fixtures';
import { InvalidConfigurationError } from '../config/validate-environment';
import { readTlsFiles } from './tls-files';

describe('readTlsFiles', () => {
  let fixtures: TlsFixtures;
  let scratch: string;

  beforeAll(async () => {
    fixtures = await createTlsFixtures();
    scratch = join(fixtures.trusted.caCert, '..');
  }, 30_000);

  afterAll(async () => {
    await fixtures?.remove();
  });

  /** The message of the InvalidConfigurationError that `read` throws. */
  function failure(read: () => unknown): string {
    try {
      read();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfigurationError);
      return (error as Error).message;
    }
    throw new Error('expected readTlsFiles to throw');
  }

  it('returns the PEM text of a matching certificate, key and CA', async () => {
    const { serverCert, serverKey, caCert } = fixtures.trusted;
    const material = readTlsFiles({ certFile: serverCert, keyFile: serverKey, caFile: caCert });
    expect(material).toEqual({
      cert: await readFile(serverCert, 'utf8'),
      key: await readFile(serverKey, 'utf8'),
      ca: await readFile(caCert, 'utf8'),
    });
  });

  it('reads only the files it is given', async () => {
    expect(readTlsFiles({ caFile: fixtures.trusted.caCert })).toEqual({
      cert: undefined,
      key: undefined,
      ca: await readFile(fixtures.trusted.caCert, 'utf8'),
    });
  });

  it('names each unreadable file with its variable and the reason, all in one error', () => {
    const missing = join(scratch, 'missing.pem');
    const message = failure(() =>
      readTlsFiles({ certFile: missing, keyFile: fixtures.trusted.serverKey, caFile: join(scratch, 'nope.crt') }),
    );
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      `  - TLS_CERT_FILE=${JSON.stringify(missing)}: cannot read it (ENOENT)`,
      `  - TLS_CA_FILE=${JSON.stringify(join(scratch, 'nope.crt'))}: cannot read it (ENOENT)`,
    ]);
  });

  it('says when a path is a directory', () => {
    expect(failure(() => readTlsFiles({ caFile: scratch }))).toContain(`TLS_CA_FILE=${JSON.stringify(scratch)}: cannot read it (EISDIR)`);
  });

  it('rejects a key that is not the certificate’s', () => {
    const { serverCert } = fixtures.trusted;
    const otherKey = fixtures.other.serverKey;
    expect(failure(() => readTlsFiles({ certFile: serverCert, keyFile: otherKey }))).toContain(
      `TLS_KEY_FILE=${JSON.stringify(otherKey)}: is not the key of the certificate in TLS_CERT_FILE`,
    );
  });

  it('rejects files that hold no certificate or no key: a key given as the certificate, a certificate as the key', () => {
    const { serverCert, serverKey } = fixtures.trusted;
    const message = failure(() => readTlsFiles({ certFile: serverKey, keyFile: serverCert, caFile: serverKey }));
    expect(message).toContain(`TLS_CERT_FILE=${JSON.stringify(serverKey)}: holds no PEM certificate`);
    expect(message).toContain(`TLS_KEY_FILE=${JSON.stringify(serverCert)}: holds no usable private key`);
    expect(message).toContain(`TLS_CA_FILE=${JSON.stringify(serverKey)}: holds no PEM certificate`);
  });

  it('rejects a certificate block that does not parse', async () => {
    const broken = join(scratch, 'broken.crt');
    await writeFile(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect(failure(() => readTlsFiles({ caFile: broken }))).toMatch(/TLS_CA_FILE=".*broken\.crt": certificate 1 does not parse/);
  });

  it('rejects an expired certificate, saying when it expired', () => {
    const { serverCert, serverKey } = fixtures.trusted;
    const inThreeDays = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    expect(failure(() => readTlsFiles({ certFile: serverCert, keyFile: serverKey }, inThreeDays))).toMatch(
      /TLS_CERT_FILE=".*server\.crt": certificate CN=echo-server expired on .+ GMT$/m,
    );
  });
});
