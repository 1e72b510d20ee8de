import { hostname } from 'node:os';
import { validateEnvironment } from '@echo-pair/common';
import { WorkerEnvironment } from './worker-environment';

describe('WorkerEnvironment', () => {
  const validate = (raw: Record<string, string>): WorkerEnvironment => validateEnvironment(WorkerEnvironment, raw);

  it('applies the defaults to an empty environment', () => {
    expect({ ...validate({}) }).toEqual({
      ECHO_SERVER_HOST: '127.0.0.1',
      ECHO_SERVER_PORT: 3000,
      ECHO_RESOLVE_INTERVAL_MS: 5000,
      ECHO_TRANSPORT: 'tcp',
      ECHO_SERVER_UDP_PORT: 3001,
      WORKER_MODE: 'demo',
      WORKER_NAME: hostname().slice(0, 64),
      CALL_TIMEOUT_MS: 5000,
      CONNECT_ATTEMPTS: 10,
      RECONNECT: true,
      RECONNECT_BACKOFF_MS: 100,
      RECONNECT_BACKOFF_MAX_MS: 5000,
      DEAD_AFTER_TIMEOUTS: 3,
      TCP_KEEPALIVE_MS: 15000,
      WHEN_DISCONNECTED: 'wait',
      ECHO_FAST_PATH: true,
      RETRY_IDEMPOTENT: false,
      RETRY_ATTEMPTS: 3,
      LOG_FORMAT: 'text',
      LOG_LEVEL: 'log',
      LOAD_REQUESTS: 10000,
      LOAD_CONCURRENCY: 64,
      LOAD_CONNECTIONS: 4,
      LOAD_TEXT_LENGTH: 64,
      LOAD_MAX_SECONDS: 60,
      METRICS_ENABLED: true,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: 9465,
    });
  });

  it('reads the metrics settings: off, another address, port 0 for a free one', () => {
    expect(validate({ METRICS_ENABLED: 'false', METRICS_HOST: '0.0.0.0', METRICS_PORT: '0' })).toMatchObject({
      METRICS_ENABLED: false,
      METRICS_HOST: '0.0.0.0',
      METRICS_PORT: 0,
    });
  });

  it.each([
    { variable: 'METRICS_PORT', value: '65536' },
    { variable: 'METRICS_PORT', value: '-1' },
    { variable: 'METRICS_ENABLED', value: 'yes' },
  ])('rejects $variable=$value', ({ variable, value }) => {
    expect(() => validate({ [variable]: value })).toThrow(`${variable}=`);
  });

  it('converts numeric strings to numbers', () => {
    const environment = validate({ ECHO_SERVER_PORT: '4100', LOAD_CONCURRENCY: '8', RECONNECT_BACKOFF_MS: '0' });
    expect(environment.ECHO_SERVER_PORT).toBe(4100);
    expect(environment.LOAD_CONCURRENCY).toBe(8);
    expect(environment.RECONNECT_BACKOFF_MS).toBe(0);
  });

  it('keeps the values it is given and ignores unrelated variables', () => {
    const environment = validate({ ECHO_SERVER_HOST: 'echo-server', WORKER_MODE: 'load', LOG_FORMAT: 'json', PATH: '/usr/bin' });
    expect(environment).toMatchObject({ ECHO_SERVER_HOST: 'echo-server', WORKER_MODE: 'load', LOG_FORMAT: 'json' });
  });

  it.each(['0', '65536', '-1'])('rejects ECHO_SERVER_PORT=%s, out of range', (port) => {
    expect(() => validate({ ECHO_SERVER_PORT: port })).toThrow(`ECHO_SERVER_PORT=${port}: `);
  });

  it.each(['80.5', 'http', '0x50', '8e1'])('rejects ECHO_SERVER_PORT=%j, quoting it as written', (port) => {
    expect(() => validate({ ECHO_SERVER_PORT: port })).toThrow(
      `ECHO_SERVER_PORT=${JSON.stringify(port)}: ECHO_SERVER_PORT must be an integer number`,
    );
  });

  it('takes the default for a blank value, as compose writes an unset variable', () => {
    expect(validate({ ECHO_SERVER_PORT: '', LOAD_REQUESTS: ' ' })).toMatchObject({ ECHO_SERVER_PORT: 3000, LOAD_REQUESTS: 10000 });
  });

  it('reads the UDP transport and its port', () => {
    expect(validate({ ECHO_TRANSPORT: 'udp', ECHO_SERVER_UDP_PORT: '4101' })).toMatchObject({
      ECHO_TRANSPORT: 'udp',
      ECHO_SERVER_UDP_PORT: 4101,
    });
  });

  it.each<{ env: Record<string, string>; message: RegExp }>([
    { env: { ECHO_TRANSPORT: 'quic' }, message: /ECHO_TRANSPORT="quic": ECHO_TRANSPORT must be one of the following values: tcp, udp/ },
    { env: { ECHO_TRANSPORT: 'UDP' }, message: /ECHO_TRANSPORT="UDP": / },
    { env: { ECHO_SERVER_UDP_PORT: '65536' }, message: /ECHO_SERVER_UDP_PORT=65536: ECHO_SERVER_UDP_PORT must not be greater than 65535/ },
  ])('rejects $env', ({ env, message }) => {
    expect(() => validate(env)).toThrow(message);
  });

  it('reads the interval at which a server name is resolved again, 0 meaning only after failures', () => {
    expect(validate({ ECHO_RESOLVE_INTERVAL_MS: '1500' }).ECHO_RESOLVE_INTERVAL_MS).toBe(1500);
    expect(validate({ ECHO_RESOLVE_INTERVAL_MS: '0' }).ECHO_RESOLVE_INTERVAL_MS).toBe(0);
    expect(() => validate({ ECHO_RESOLVE_INTERVAL_MS: '-1' })).toThrow(
      /ECHO_RESOLVE_INTERVAL_MS=-1: ECHO_RESOLVE_INTERVAL_MS must not be less than 0/,
    );
    expect(() => validate({ ECHO_RESOLVE_INTERVAL_MS: 'often' })).toThrow(/ECHO_RESOLVE_INTERVAL_MS="often"/);
  });

  it('rejects an unknown mode and names the valid ones', () => {
    expect(() => validate({ WORKER_MODE: 'serve' })).toThrow(/WORKER_MODE="serve".*demo, repl, load/);
  });

  it('lists every bad variable in one error', () => {
    const lines = (() => {
      try {
        validate({ LOG_FORMAT: 'xml', LOAD_CONNECTIONS: '0', CONNECT_ATTEMPTS: 'many' });
        return [];
      } catch (error: unknown) {
        return (error as Error).message.split('\n');
      }
    })();

    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(/^ {2}- CONNECT_ATTEMPTS="many": .*CONNECT_ATTEMPTS must be an integer number/),
      expect.stringMatching(/^ {2}- LOAD_CONNECTIONS=0: LOAD_CONNECTIONS must not be less than 1$/),
      expect.stringMatching(/^ {2}- LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: text, json$/),
    ]);
  });

  it('reads the resilience settings', () => {
    expect(
      validate({
        RECONNECT: 'false',
        RECONNECT_BACKOFF_MS: '50',
        WHEN_DISCONNECTED: 'fail-fast',
        RETRY_IDEMPOTENT: 'true',
        RETRY_ATTEMPTS: '5',
        DEAD_AFTER_TIMEOUTS: '0',
        TCP_KEEPALIVE_MS: '30000',
      }),
    ).toMatchObject({
      RECONNECT: false,
      RECONNECT_BACKOFF_MS: 50,
      WHEN_DISCONNECTED: 'fail-fast',
      RETRY_IDEMPOTENT: true,
      RETRY_ATTEMPTS: 5,
      DEAD_AFTER_TIMEOUTS: 0,
      TCP_KEEPALIVE_MS: 30000,
    });
  });

  it.each<{ env: Record<string, string>; message: RegExp }>([
    { env: { RECONNECT: 'yes' }, message: /RECONNECT="yes": RECONNECT must be a boolean value/ },
    { env: { ECHO_FAST_PATH: 'no' }, message: /ECHO_FAST_PATH="no": ECHO_FAST_PATH must be a boolean value/ },
    { env: { WHEN_DISCONNECTED: 'block' }, message: /WHEN_DISCONNECTED="block": .*wait, fail-fast/ },
    { env: { RETRY_ATTEMPTS: '0' }, message: /RETRY_ATTEMPTS=0: RETRY_ATTEMPTS must not be less than 1/ },
    { env: { DEAD_AFTER_TIMEOUTS: '-1' }, message: /DEAD_AFTER_TIMEOUTS=-1: DEAD_AFTER_TIMEOUTS must not be less than 0/ },
  ])('rejects $env', ({ env, message }) => {
    expect(() => validate(env)).toThrow(message);
  });

  it('rejects a worker name longer than the hello contract allows', () => {
    expect(() => validate({ WORKER_NAME: 'w'.repeat(65) })).toThrow(/WORKER_NAME/);
  });

  describe('TLS', () => {
    it('is off by default', () => {
      const environment = validate({});
      expect([environment.TLS_CA_FILE, environment.TLS_CERT_FILE, environment.TLS_KEY_FILE, environment.TLS_SERVER_NAME]).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    });

    it.each<{ label: string; env: Record<string, string> }>([
      { label: 'mutual TLS', env: { TLS_CA_FILE: '/tls/ca.crt', TLS_CERT_FILE: '/tls/client.crt', TLS_KEY_FILE: '/tls/client.key' } },
      { label: 'TLS without a client certificate', env: { TLS_CA_FILE: '/tls/ca.crt' } },
      { label: 'a server name', env: { TLS_CA_FILE: '/tls/ca.crt', TLS_SERVER_NAME: 'echo-server' } },
    ])('accepts $label', ({ env }) => {
      expect(validate(env)).toMatchObject(env);
    });

    it.each<{ env: Record<string, string>; error: string }>([
      {
        env: { TLS_CERT_FILE: '/c.crt', TLS_CA_FILE: '/ca.crt' },
        error: '  - TLS_CERT_FILE="/c.crt": TLS_CERT_FILE needs TLS_KEY_FILE as well',
      },
      {
        env: { TLS_CERT_FILE: '/c.crt', TLS_KEY_FILE: '/c.key' },
        error: '  - TLS_CERT_FILE="/c.crt": TLS_CERT_FILE needs TLS_CA_FILE as well',
      },
      {
        env: { TLS_KEY_FILE: '/c.key', TLS_CA_FILE: '/ca.crt' },
        error: '  - TLS_KEY_FILE="/c.key": TLS_KEY_FILE needs TLS_CERT_FILE as well',
      },
      { env: { TLS_SERVER_NAME: 'echo-server' }, error: '  - TLS_SERVER_NAME="echo-server": TLS_SERVER_NAME needs TLS_CA_FILE as well' },
    ])('rejects $env', ({ env, error }) => {
      expect(() => validate(env)).toThrow(error);
    });

    it('is a configuration error with ECHO_TRANSPORT=udp, which has no TLS, naming every TLS variable set', () => {
      const env = {
        ECHO_TRANSPORT: 'udp',
        TLS_CA_FILE: '/tls/ca.crt',
        TLS_CERT_FILE: '/tls/client.crt',
        TLS_KEY_FILE: '/tls/client.key',
        TLS_SERVER_NAME: 'echo-server',
      };

      expect(() => validate(env)).toThrow(
        [
          'Invalid configuration:',
          '  - TLS_CA_FILE="/tls/ca.crt": TLS_CA_FILE needs ECHO_TRANSPORT=tcp: UDP has no TLS',
          '  - TLS_CERT_FILE="/tls/client.crt": TLS_CERT_FILE needs ECHO_TRANSPORT=tcp: UDP has no TLS',
          '  - TLS_KEY_FILE="/tls/client.key": TLS_KEY_FILE needs ECHO_TRANSPORT=tcp: UDP has no TLS',
          '  - TLS_SERVER_NAME="echo-server": TLS_SERVER_NAME needs ECHO_TRANSPORT=tcp: UDP has no TLS',
        ].join('\n'),
      );
    });

    it('is accepted with ECHO_TRANSPORT=tcp given explicitly', () => {
      expect(validate({ ECHO_TRANSPORT: 'tcp', TLS_CA_FILE: '/tls/ca.crt' })).toMatchObject({
        ECHO_TRANSPORT: 'tcp',
        TLS_CA_FILE: '/tls/ca.crt',
      });
    });
  });
});
