import { hostname } from 'node:os';
import { validateEnvironment } from '@echo-pair/common';
import { WorkerEnvironment } from './worker-environment';

describe('WorkerEnvironment', () => {
  const validate = (raw: Record<string, string>): WorkerEnvironment => validateEnvironment(WorkerEnvironment, raw);

  it('applies the defaults to an empty environment', () => {
    expect({ ...validate({}) }).toEqual({
      ECHO_SERVER_HOST: '127.0.0.1',
      ECHO_SERVER_PORT: 3000,
      WORKER_MODE: 'demo',
      WORKER_NAME: hostname().slice(0, 64),
      CALL_TIMEOUT_MS: 5000,
      CONNECT_ATTEMPTS: 10,
      CONNECT_BACKOFF_MS: 200,
      CONNECT_BACKOFF_MAX_MS: 3000,
      LOG_FORMAT: 'text',
      LOG_LEVEL: 'log',
      LOAD_REQUESTS: 10000,
      LOAD_CONCURRENCY: 64,
      LOAD_CONNECTIONS: 4,
      LOAD_TEXT_LENGTH: 64,
      LOAD_MAX_SECONDS: 60,
    });
  });

  it('converts numeric strings to numbers', () => {
    const environment = validate({ ECHO_SERVER_PORT: '4100', LOAD_CONCURRENCY: '8', CONNECT_BACKOFF_MS: '0' });
    expect(environment.ECHO_SERVER_PORT).toBe(4100);
    expect(environment.LOAD_CONCURRENCY).toBe(8);
    expect(environment.CONNECT_BACKOFF_MS).toBe(0);
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

  it('rejects a worker name longer than the hello contract allows', () => {
    expect(() => validate({ WORKER_NAME: 'w'.repeat(65) })).toThrow(/WORKER_NAME/);
  });
});
