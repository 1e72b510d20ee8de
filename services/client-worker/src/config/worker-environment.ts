import { hostname } from 'node:os';
import {
  BooleanSetting,
  IntegerSetting,
  LoggingEnvironment,
  RequiresAlso,
  WireLimits,
  type EchoClientProtocol,
  type WhenDisconnected,
} from '@echo-pair/common';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateBy, type ValidationArguments } from 'class-validator';
import { WORKER_MODES, type WorkerMode } from './worker-mode';

const WHEN_DISCONNECTED: readonly WhenDisconnected[] = ['wait', 'fail-fast'];
const ECHO_TRANSPORTS: readonly EchoClientProtocol[] = ['tcp', 'udp'];

/** Environment variables of the client worker, with their defaults. */
export class WorkerEnvironment extends LoggingEnvironment {
  @IsString()
  @IsNotEmpty()
  ECHO_SERVER_HOST = '127.0.0.1';

  @IntegerSetting(1, 65535)
  ECHO_SERVER_PORT = 3000;

  /**
   * When ECHO_SERVER_HOST is a name (TCP): how often it is resolved again, in milliseconds. The
   * worker keeps a connection to every address (replica) it resolves to and spreads its calls over
   * them, so that a scaled service's new replicas get calls and vanished ones are dropped; it also
   * resolves again soon after a connection fails. 0: only after failures.
   */
  @IntegerSetting(0, 3_600_000)
  ECHO_RESOLVE_INTERVAL_MS = 5_000;

  /** `tcp`: Nest's TCP transport on ECHO_SERVER_PORT, TLS possible; `udp`: JSON datagrams on ECHO_SERVER_UDP_PORT, no TLS. */
  @IsIn(ECHO_TRANSPORTS)
  ECHO_TRANSPORT: EchoClientProtocol = 'tcp';

  @IntegerSetting(1, 65535)
  ECHO_SERVER_UDP_PORT = 3001;

  /** Used when no mode is given on the command line. */
  @IsIn(WORKER_MODES)
  WORKER_MODE: WorkerMode = 'demo';

  /** Sent in `hello`, so the server's log can tell workers apart. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(WireLimits.clientNameMaxLength)
  WORKER_NAME = hostname().slice(0, WireLimits.clientNameMaxLength);

  @IntegerSetting(1, 600_000)
  CALL_TIMEOUT_MS = 5_000;

  /**
   * Failed attempts at start-up before the worker gives up on the server: the keeper's failed
   * connects and failed `hello`s, with RECONNECT_BACKOFF_* between them; the wait is also bounded
   * by CONNECT_ATTEMPTS × CALL_TIMEOUT_MS. 1 means no retry.
   */
  @IntegerSetting(1, 1_000)
  CONNECT_ATTEMPTS = 10;

  /** Reconnect in the background after the connection drops (or a connect fails), with backoff. */
  @BooleanSetting()
  RECONNECT = true;

  /** Wait before the first reconnect attempt; multiplied by 2 per further attempt, with jitter. */
  @IntegerSetting(0, 600_000)
  RECONNECT_BACKOFF_MS = 100;

  @IntegerSetting(0, 600_000)
  RECONNECT_BACKOFF_MAX_MS = 5_000;

  /** Calls in a row that time out on one connection with nothing received before it is considered dead and reconnected; 0 turns it off. */
  @IntegerSetting(0, 1_000)
  DEAD_AFTER_TIMEOUTS = 3;

  /** TCP keepalive idle delay of the worker's connections; 0 turns keepalive off. */
  @IntegerSetting(0, 3_600_000)
  TCP_KEEPALIVE_MS = 15_000;

  /** `wait`: a call made while disconnected waits for the connection within CALL_TIMEOUT_MS; `fail-fast`: it fails at once. */
  @IsIn(WHEN_DISCONNECTED)
  WHEN_DISCONNECTED: WhenDisconnected = 'wait';

  /**
   * `false` runs stock ClientTCP socket handling instead of the client's fast path: the same bytes
   * and errors, slower. Validated here with the other settings; the client reads the same variable.
   * See docs/performance.md.
   */
  @BooleanSetting()
  ECHO_FAST_PATH = true;

  /** Repeat idempotent calls (echo, hello, pure commands) that failed on the transport, within CALL_TIMEOUT_MS. */
  @BooleanSetting()
  RETRY_IDEMPOTENT = false;

  /** Attempts of an idempotent call in all, the first included, when RETRY_IDEMPOTENT is on. */
  @IntegerSetting(1, 100)
  RETRY_ATTEMPTS = 3;

  @IntegerSetting(1, 1_000_000)
  LOAD_REQUESTS = 10_000;

  /** Requests in flight at once, over all connections. */
  @IntegerSetting(1, 1024)
  LOAD_CONCURRENCY = 64;

  @IntegerSetting(1, 256)
  LOAD_CONNECTIONS = 4;

  /** Length of each echoed text, in characters (ASCII, so also bytes); load measures throughput, not size. */
  @IntegerSetting(0, 64 * 1024)
  LOAD_TEXT_LENGTH = 64;

  /** No request is issued after this many seconds, whatever LOAD_REQUESTS says. */
  @IntegerSetting(1, 3600)
  LOAD_MAX_SECONDS = 60;

  /** `GET /metrics` (Prometheus text format) on a small HTTP port of the worker; `false` turns it off. */
  @BooleanSetting()
  METRICS_ENABLED = true;

  /**
   * Address of the metrics port: loopback by default, since the worker serves nothing else; `0.0.0.0`
   * (as compose sets it) for a scraper in another container or host.
   */
  @IsString()
  @IsNotEmpty()
  METRICS_HOST = '127.0.0.1';

  /** Port of `/metrics` (the server's is 9464); 0 picks a free one, which the worker logs. */
  @IntegerSetting(0, 65535)
  METRICS_PORT = 9465;

  /** PEM CA certificate(s) the server's certificate must chain to; setting it turns TLS on. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @TcpOnly()
  TLS_CA_FILE?: string;

  /** PEM client certificate (chain), for a server that requires one (mutual TLS). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @RequiresAlso<WorkerEnvironment>(['TLS_KEY_FILE', 'TLS_CA_FILE'])
  @TcpOnly()
  TLS_CERT_FILE?: string;

  /** PEM private key of TLS_CERT_FILE (unencrypted). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @RequiresAlso<WorkerEnvironment>(['TLS_CERT_FILE'])
  @TcpOnly()
  TLS_KEY_FILE?: string;

  /** Name the server's certificate must carry; defaults to ECHO_SERVER_HOST. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(253)
  @RequiresAlso<WorkerEnvironment>(['TLS_CA_FILE'])
  @TcpOnly()
  TLS_SERVER_NAME?: string;
}

/** A TLS setting: an error with ECHO_TRANSPORT=udp, which has no TLS, rather than a worker that quietly sends plain text. */
function TcpOnly(): PropertyDecorator {
  return ValidateBy({
    name: 'tcpOnly',
    validator: {
      validate: (value: unknown, { object }: ValidationArguments) =>
        value === undefined || (object as WorkerEnvironment).ECHO_TRANSPORT !== 'udp',
      defaultMessage: ({ property }: ValidationArguments) => `${property} needs ECHO_TRANSPORT=tcp: UDP has no TLS`,
    },
  });
}
