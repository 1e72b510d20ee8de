import { InvalidConfigurationError } from '@echo-pair/common';
import { workerEnvironment } from '../testing/worker-config';
import { echoClientOptionsOf } from './echo-client-options-of';

describe('echoClientOptionsOf', () => {
  it('takes every client setting from the environment', () => {
    const environment = workerEnvironment({
      ECHO_SERVER_HOST: 'echo-server',
      ECHO_SERVER_PORT: '4000',
      CALL_TIMEOUT_MS: '750',
      RECONNECT: 'false',
      RECONNECT_BACKOFF_MS: '20',
      RECONNECT_BACKOFF_MAX_MS: '400',
      WHEN_DISCONNECTED: 'fail-fast',
      DEAD_AFTER_TIMEOUTS: '5',
      TCP_KEEPALIVE_MS: '0',
      ECHO_RESOLVE_INTERVAL_MS: '250',
      RETRY_IDEMPOTENT: 'true',
      RETRY_ATTEMPTS: '4',
    });

    expect(echoClientOptionsOf(environment)).toEqual({
      host: 'echo-server',
      protocol: 'tcp',
      port: 4000,
      timeoutMs: 750,
      reconnect: { enabled: false, initialDelayMs: 20, maxDelayMs: 400 },
      whenDisconnected: 'fail-fast',
      deadAfterTimeouts: 5,
      keepAliveMs: 0,
      resolveIntervalMs: 250,
      retry: { attempts: 4 },
    });
  });

  it('calls the UDP port over udp, and retries nothing unless RETRY_IDEMPOTENT', () => {
    const options = echoClientOptionsOf(
      workerEnvironment({ ECHO_TRANSPORT: 'udp', ECHO_SERVER_PORT: '4000', ECHO_SERVER_UDP_PORT: '4001' }),
    );

    expect(options).toMatchObject({ protocol: 'udp', port: 4001, retry: false });
    expect(options).not.toHaveProperty('transport');
  });

  it('reports every call to the metrics, when there are some', () => {
    const onCall = jest.fn();

    expect(echoClientOptionsOf(workerEnvironment(), { onCall }).onCall).toBe(onCall);
    expect(echoClientOptionsOf(workerEnvironment())).not.toHaveProperty('onCall');
  });

  it('reads the TLS files when TLS_CA_FILE is set: an unreadable one is bad configuration', () => {
    const environment = workerEnvironment({ TLS_CA_FILE: '/nonexistent/ca.pem' });

    expect(() => echoClientOptionsOf(environment)).toThrow(InvalidConfigurationError);
    expect(() => echoClientOptionsOf(environment)).toThrow(/TLS_CA_FILE/);
  });
});
