import { LOG_LEVELS, MIN_FRAME_LENGTH, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment, validatesResponses } from './echo-server-environment';

describe('EchoServerEnvironment', () => {
  it('fills every default from an empty environment', () => {
    const config = validateEnvironment(EchoServerEnvironment, {});

    expect(config).toBeInstanceOf(EchoServerEnvironment);
    expect({ ...config }).toEqual({
      ECHO_HOST: '0.0.0.0',
      ECHO_PORT: 3000,
      SERVER_NAME: 'echo-server',
      LOG_FORMAT: 'text',
      LOG_LEVEL: 'log',
      MAX_MESSAGE_LENGTH: 8 * 1024 * 1024,
      INCOMPLETE_MESSAGE_TIMEOUT_MS: 10_000,
      MAX_CONNECTIONS: 1000,
      MAX_CONNECTIONS_PER_ADDRESS: 256,
      MAX_BUFFERED_BYTES: 0,
      MAX_SEND_BUFFER_BYTES: 64 * 1024 * 1024,
      MAX_IN_FLIGHT_PER_CONNECTION: 256,
      TCP_NO_DELAY: true,
      ECHO_FAST_PATH: true,
      VALIDATE_RESPONSES: undefined,
      NODE_ENV: undefined,
      PROXY_PROTOCOL: false,
      TRUSTED_PROXIES: '',
      REFUSAL_LOG_INTERVAL_MS: 10000,
      REFUSAL_LOG_FULL_LINES: 5,
      SLEEP_MAX_MS: 10_000,
      DRAIN_TIMEOUT_MS: 10_000,
      TLS_REQUIRE_CLIENT_CERT: true,
      TEXT_ENABLED: true,
      TEXT_HOST: undefined,
      TEXT_PORT: 3001,
      TEXT_ENCODING: 'auto',
      TEXT_MAX_LINE_BYTES: 64 * 1024,
      TEXT_IDLE_FLUSH_MS: 30,
      TEXT_WELCOME_DELAY_MS: 200,
      TEXT_IDLE_TIMEOUT_MS: 300_000,
      TEXT_LINE_TIMEOUT_MS: 30_000,
      TEXT_MAX_CONNECTIONS: 1000,
      TEXT_MAX_SEND_BUFFER_BYTES: 1024 * 1024,
      CHAT_MAX_ROOMS: 100,
      CHAT_MAX_MEMBERS: 50,
      CHAT_STALL_MS: 30_000,
      CHAT_MAX_BACKLOG_BYTES: 16 * 1024 * 1024,
      UDP_ENABLED: true,
      UDP_HOST: undefined,
      UDP_PORT: 3001,
      UDP_MAX_DATAGRAM_BYTES: 16 * 1024,
      METRICS_ENABLED: true,
      METRICS_HOST: undefined,
      METRICS_PORT: 9464,
    });
  });

  it('ignores variables it does not declare and ones that are undefined', () => {
    const config = validateEnvironment(EchoServerEnvironment, { PATH: '/usr/bin', HOME: '/root', ECHO_PORT: undefined });

    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('HOME');
    expect(config.ECHO_PORT).toBe(3000);
  });

  it.each([
    { env: { ECHO_PORT: '0' }, key: 'ECHO_PORT', value: 0 },
    { env: { ECHO_PORT: '65535' }, key: 'ECHO_PORT', value: 65_535 },
    { env: { ECHO_PORT: '4000' }, key: 'ECHO_PORT', value: 4000 },
    { env: { ECHO_HOST: '127.0.0.1' }, key: 'ECHO_HOST', value: '127.0.0.1' },
    { env: { ECHO_HOST: '::' }, key: 'ECHO_HOST', value: '::' },
    { env: { SERVER_NAME: 'echo-eu-1' }, key: 'SERVER_NAME', value: 'echo-eu-1' },
    { env: { LOG_FORMAT: 'json' }, key: 'LOG_FORMAT', value: 'json' },
    { env: { MAX_MESSAGE_LENGTH: String(MIN_FRAME_LENGTH) }, key: 'MAX_MESSAGE_LENGTH', value: MIN_FRAME_LENGTH },
    { env: { MAX_CONNECTIONS: '5' }, key: 'MAX_CONNECTIONS', value: 5 },
    { env: { INCOMPLETE_MESSAGE_TIMEOUT_MS: '0' }, key: 'INCOMPLETE_MESSAGE_TIMEOUT_MS', value: 0 },
    { env: { SLEEP_MAX_MS: '600000' }, key: 'SLEEP_MAX_MS', value: 600_000 },
    { env: { DRAIN_TIMEOUT_MS: '0' }, key: 'DRAIN_TIMEOUT_MS', value: 0 },
    { env: { DRAIN_TIMEOUT_MS: '600000' }, key: 'DRAIN_TIMEOUT_MS', value: 600_000 },
    { env: { MAX_BUFFERED_BYTES: '1048576' }, key: 'MAX_BUFFERED_BYTES', value: 1_048_576 },
    { env: { MAX_SEND_BUFFER_BYTES: '0' }, key: 'MAX_SEND_BUFFER_BYTES', value: 0 },
    { env: { MAX_IN_FLIGHT_PER_CONNECTION: '1' }, key: 'MAX_IN_FLIGHT_PER_CONNECTION', value: 1 },
    { env: { TCP_NO_DELAY: 'false' }, key: 'TCP_NO_DELAY', value: false },
    { env: { TCP_NO_DELAY: 'true' }, key: 'TCP_NO_DELAY', value: true },
    { env: { ECHO_FAST_PATH: 'false' }, key: 'ECHO_FAST_PATH', value: false },
    { env: { ECHO_FAST_PATH: 'true' }, key: 'ECHO_FAST_PATH', value: true },
    { env: { TEXT_ENABLED: 'false' }, key: 'TEXT_ENABLED', value: false },
    { env: { TEXT_PORT: '0' }, key: 'TEXT_PORT', value: 0 },
    { env: { TEXT_HOST: '127.0.0.1' }, key: 'TEXT_HOST', value: '127.0.0.1' },
    { env: { TEXT_ENCODING: 'gbk' }, key: 'TEXT_ENCODING', value: 'gbk' },
    { env: { TEXT_ENCODING: 'utf-8' }, key: 'TEXT_ENCODING', value: 'utf-8' },
    { env: { TEXT_WELCOME_DELAY_MS: '0' }, key: 'TEXT_WELCOME_DELAY_MS', value: 0 },
    { env: { TEXT_IDLE_TIMEOUT_MS: '0' }, key: 'TEXT_IDLE_TIMEOUT_MS', value: 0 },
    { env: { UDP_ENABLED: 'false' }, key: 'UDP_ENABLED', value: false },
    { env: { UDP_PORT: '0' }, key: 'UDP_PORT', value: 0 },
    { env: { UDP_MAX_DATAGRAM_BYTES: '65507' }, key: 'UDP_MAX_DATAGRAM_BYTES', value: 65_507 },
    { env: { METRICS_ENABLED: 'false' }, key: 'METRICS_ENABLED', value: false },
    { env: { METRICS_HOST: '127.0.0.1' }, key: 'METRICS_HOST', value: '127.0.0.1' },
    { env: { METRICS_PORT: '0' }, key: 'METRICS_PORT', value: 0 },
    { env: { METRICS_PORT: '9100' }, key: 'METRICS_PORT', value: 9100 },
  ])('accepts $env', ({ env, key, value }) => {
    expect(validateEnvironment(EchoServerEnvironment, env)).toHaveProperty(key, value);
  });

  it.each(LOG_LEVELS)('accepts LOG_LEVEL=%s', (level) => {
    expect(validateEnvironment(EchoServerEnvironment, { LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it.each([
    { env: { ECHO_PORT: '70000' }, error: 'ECHO_PORT=70000: ECHO_PORT must not be greater than 65535' },
    { env: { ECHO_PORT: '-1' }, error: 'ECHO_PORT=-1: ECHO_PORT must not be less than 0' },
    { env: { ECHO_PORT: '3000.5' }, error: 'ECHO_PORT="3000.5": ECHO_PORT must be an integer number' },
    { env: { ECHO_PORT: 'abc' }, error: 'ECHO_PORT="abc": ECHO_PORT must be an integer number' },
    { env: { ECHO_PORT: '0x10' }, error: 'ECHO_PORT="0x10": ECHO_PORT must be an integer number' },
    { env: { SERVER_NAME: 'n'.repeat(65) }, error: 'SERVER_NAME must be shorter than or equal to 64 characters' },
    { env: { LOG_FORMAT: 'xml' }, error: 'LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: text, json' },
    {
      env: { LOG_LEVEL: 'info' },
      error: 'LOG_LEVEL="info": LOG_LEVEL must be one of the following values: fatal, error, warn, log, debug, verbose',
    },
    { env: { LOG_LEVEL: 'LOG' }, error: 'LOG_LEVEL="LOG": LOG_LEVEL must be one of the following values' },
    {
      env: { MAX_MESSAGE_LENGTH: String(MIN_FRAME_LENGTH - 1) },
      error: `MAX_MESSAGE_LENGTH=${MIN_FRAME_LENGTH - 1}: MAX_MESSAGE_LENGTH must not be less than ${MIN_FRAME_LENGTH}`,
    },
    { env: { MAX_CONNECTIONS: '0' }, error: 'MAX_CONNECTIONS=0: MAX_CONNECTIONS must not be less than 1' },
    { env: { MAX_MESSAGE_LENGTH: String(512 * 1024 * 1024 + 1) }, error: 'MAX_MESSAGE_LENGTH must not be greater than 536870912' },
    { env: { INCOMPLETE_MESSAGE_TIMEOUT_MS: '3600001' }, error: 'INCOMPLETE_MESSAGE_TIMEOUT_MS must not be greater than 3600000' },
    { env: { SLEEP_MAX_MS: '600001' }, error: 'SLEEP_MAX_MS=600001: SLEEP_MAX_MS must not be greater than 600000' },
    { env: { SLEEP_MAX_MS: '-5' }, error: 'SLEEP_MAX_MS=-5: SLEEP_MAX_MS must not be less than 0' },
    { env: { DRAIN_TIMEOUT_MS: '600001' }, error: 'DRAIN_TIMEOUT_MS=600001: DRAIN_TIMEOUT_MS must not be greater than 600000' },
    { env: { DRAIN_TIMEOUT_MS: '-1' }, error: 'DRAIN_TIMEOUT_MS=-1: DRAIN_TIMEOUT_MS must not be less than 0' },
    { env: { DRAIN_TIMEOUT_MS: '10s' }, error: 'DRAIN_TIMEOUT_MS="10s": DRAIN_TIMEOUT_MS must be an integer number' },
    {
      env: { MAX_IN_FLIGHT_PER_CONNECTION: '0' },
      error: 'MAX_IN_FLIGHT_PER_CONNECTION=0: MAX_IN_FLIGHT_PER_CONNECTION must not be less than 1',
    },
    { env: { MAX_BUFFERED_BYTES: '-1' }, error: 'MAX_BUFFERED_BYTES=-1: MAX_BUFFERED_BYTES must not be less than 0' },
    { env: { MAX_SEND_BUFFER_BYTES: 'lots' }, error: 'MAX_SEND_BUFFER_BYTES="lots": MAX_SEND_BUFFER_BYTES must be an integer number' },
    { env: { TCP_NO_DELAY: 'yes' }, error: 'TCP_NO_DELAY="yes": TCP_NO_DELAY must be a boolean value' },
    { env: { ECHO_FAST_PATH: 'off' }, error: 'ECHO_FAST_PATH="off": ECHO_FAST_PATH must be a boolean value' },
    { env: { ECHO_FAST_PATH: 'TRUE' }, error: 'ECHO_FAST_PATH="TRUE": ECHO_FAST_PATH must be a boolean value' },
    { env: { VALIDATE_RESPONSES: 'on' }, error: 'VALIDATE_RESPONSES="on": VALIDATE_RESPONSES must be a boolean value' },
    { env: { TEXT_PORT: '65536' }, error: 'TEXT_PORT=65536: TEXT_PORT must not be greater than 65535' },
    {
      env: { TEXT_ENCODING: 'latin1' },
      error: 'TEXT_ENCODING="latin1": TEXT_ENCODING must be one of the following values: auto, utf-8, gbk',
    },
    { env: { TEXT_MAX_LINE_BYTES: '63' }, error: 'TEXT_MAX_LINE_BYTES=63: TEXT_MAX_LINE_BYTES must not be less than 64' },
    { env: { TEXT_IDLE_FLUSH_MS: '0' }, error: 'TEXT_IDLE_FLUSH_MS=0: TEXT_IDLE_FLUSH_MS must not be less than 1' },
    { env: { TEXT_ENABLED: 'off' }, error: 'TEXT_ENABLED="off": TEXT_ENABLED must be a boolean value' },
    { env: { CHAT_MAX_MEMBERS: '1' }, error: 'CHAT_MAX_MEMBERS=1: CHAT_MAX_MEMBERS must not be less than 2' },
    {
      env: { UDP_MAX_DATAGRAM_BYTES: '65508' },
      error: 'UDP_MAX_DATAGRAM_BYTES=65508: UDP_MAX_DATAGRAM_BYTES must not be greater than 65507',
    },
    { env: { METRICS_ENABLED: 'no' }, error: 'METRICS_ENABLED="no": METRICS_ENABLED must be a boolean value' },
    { env: { METRICS_PORT: '65536' }, error: 'METRICS_PORT=65536: METRICS_PORT must not be greater than 65535' },
    { env: { METRICS_PORT: 'http' }, error: 'METRICS_PORT="http": METRICS_PORT must be an integer number' },
  ])('rejects $env', ({ env, error }) => {
    expect(() => validateEnvironment(EchoServerEnvironment, env)).toThrow(error);
  });

  it('lists every bad variable in one error', () => {
    expect(() => validateEnvironment(EchoServerEnvironment, { ECHO_PORT: '70000', LOG_FORMAT: 'xml', ECHO_HOST: 'ok' })).toThrow(
      'Invalid configuration:\n' +
        '  - ECHO_PORT=70000: ECHO_PORT must not be greater than 65535\n' +
        '  - LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: text, json',
    );
  });

  // A blank variable (`ECHO_PORT=`, as compose writes an unset `${ECHO_PORT}`) means unset,
  // never 0: a blank port must not listen on a random one, a blank timeout must not disable it.
  it.each([
    { env: { ECHO_PORT: '' }, key: 'ECHO_PORT', expected: 3000 },
    { env: { ECHO_PORT: ' ' }, key: 'ECHO_PORT', expected: 3000 },
    { env: { INCOMPLETE_MESSAGE_TIMEOUT_MS: '' }, key: 'INCOMPLETE_MESSAGE_TIMEOUT_MS', expected: 10_000 },
    { env: { SLEEP_MAX_MS: '' }, key: 'SLEEP_MAX_MS', expected: 10_000 },
    { env: { DRAIN_TIMEOUT_MS: '' }, key: 'DRAIN_TIMEOUT_MS', expected: 10_000 },
    { env: { SERVER_NAME: '' }, key: 'SERVER_NAME', expected: 'echo-server' },
    { env: { METRICS_PORT: '' }, key: 'METRICS_PORT', expected: 9464 },
    { env: { METRICS_ENABLED: '' }, key: 'METRICS_ENABLED', expected: true },
    { env: { ECHO_FAST_PATH: '' }, key: 'ECHO_FAST_PATH', expected: true },
  ])('takes the default for the blank variable $env', ({ env, key, expected }) => {
    expect(validateEnvironment(EchoServerEnvironment, env)[key as keyof EchoServerEnvironment]).toBe(expected);
  });

  // VALIDATE_RESPONSES: on unless NODE_ENV=production (the Docker image's runtime stages), unless set.
  it.each([
    { env: {}, expected: true },
    { env: { VALIDATE_RESPONSES: '' }, expected: true },
    { env: { NODE_ENV: 'development' }, expected: true },
    { env: { NODE_ENV: 'test' }, expected: true },
    { env: { NODE_ENV: 'production' }, expected: false },
    { env: { NODE_ENV: 'production', VALIDATE_RESPONSES: '' }, expected: false },
    { env: { NODE_ENV: 'production', VALIDATE_RESPONSES: 'true' }, expected: true },
    { env: { VALIDATE_RESPONSES: 'false' }, expected: false },
    { env: { NODE_ENV: 'development', VALIDATE_RESPONSES: 'false' }, expected: false },
  ])('validates responses or not with $env', ({ env, expected }) => {
    expect(validatesResponses(validateEnvironment(EchoServerEnvironment, env))).toBe(expected);
  });

  describe('TLS', () => {
    const files = { TLS_CERT_FILE: '/tls/server.crt', TLS_KEY_FILE: '/tls/server.key', TLS_CA_FILE: '/tls/ca.crt' };

    it('is off by default: no file is set', () => {
      const config = validateEnvironment(EchoServerEnvironment, {});
      expect([config.TLS_CERT_FILE, config.TLS_KEY_FILE, config.TLS_CA_FILE]).toEqual([undefined, undefined, undefined]);
      expect(config.TLS_REQUIRE_CLIENT_CERT).toBe(true);
    });

    it.each([
      { label: 'mutual TLS', env: files, required: true },
      { label: 'TLS without client certificates', env: { ...files, TLS_CA_FILE: '', TLS_REQUIRE_CLIENT_CERT: 'false' }, required: false },
    ])('accepts $label', ({ env, required }) => {
      const config = validateEnvironment(EchoServerEnvironment, env);
      expect(config).toMatchObject({
        TLS_CERT_FILE: '/tls/server.crt',
        TLS_KEY_FILE: '/tls/server.key',
        TLS_REQUIRE_CLIENT_CERT: required,
      });
    });

    it.each([
      {
        env: { TLS_CERT_FILE: '/tls/server.crt', TLS_CA_FILE: '/tls/ca.crt' },
        error: '  - TLS_CERT_FILE="/tls/server.crt": TLS_CERT_FILE needs TLS_KEY_FILE as well',
      },
      {
        env: { TLS_KEY_FILE: '/tls/server.key' },
        error: '  - TLS_KEY_FILE="/tls/server.key": TLS_KEY_FILE needs TLS_CERT_FILE as well',
      },
      {
        env: { TLS_CERT_FILE: '/tls/server.crt', TLS_KEY_FILE: '/tls/server.key' },
        error:
          '  - TLS_CERT_FILE="/tls/server.crt": TLS_CERT_FILE needs TLS_CA_FILE as well to verify client certificates (TLS_REQUIRE_CLIENT_CERT=true, the default)',
      },
      {
        env: { TLS_CA_FILE: '/tls/ca.crt' },
        error: '  - TLS_CA_FILE="/tls/ca.crt": TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE as well (TLS is on only with both)',
      },
      {
        env: { ...files, TLS_REQUIRE_CLIENT_CERT: 'yes' },
        error: 'TLS_REQUIRE_CLIENT_CERT="yes": TLS_REQUIRE_CLIENT_CERT must be a boolean value',
      },
    ])('rejects $env', ({ env, error }) => {
      expect(() => validateEnvironment(EchoServerEnvironment, env)).toThrow(error);
    });
  });
});
