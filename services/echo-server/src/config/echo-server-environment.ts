import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { BooleanSetting, IntegerSetting, LoggingEnvironment, MIN_FRAME_LENGTH, RequiresAlso, TransportDefaults } from '@echo-pair/common';

/** Environment variables of the echo server, with their defaults. */
export class EchoServerEnvironment extends LoggingEnvironment {
  /** Address to listen on. Nest's TCP transport defaults to `localhost`, which no other container can reach. */
  @IsString()
  @IsNotEmpty()
  ECHO_HOST = '0.0.0.0';

  /** Port to listen on; 0 picks a free one (used by tests). */
  @IntegerSetting(0, 65535)
  ECHO_PORT = 3000;

  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  SERVER_NAME = 'echo-server';

  /**
   * Largest frame accepted, in UTF-16 code units of its JSON (the framing's unit).
   * At least MIN_FRAME_LENGTH, the longest frame a valid request can take.
   */
  @IntegerSetting(MIN_FRAME_LENGTH, 512 * 1024 * 1024)
  MAX_MESSAGE_LENGTH = TransportDefaults.maxFrameLength;

  /**
   * A connection whose frame is still incomplete this long after its first byte
   * arrived is closed (a peer dripping bytes does not restart the clock); 0 disables.
   */
  @IntegerSetting(0, 3_600_000)
  INCOMPLETE_MESSAGE_TIMEOUT_MS = TransportDefaults.incompleteFrameTimeoutMs;

  /**
   * Most bytes held for one connection: the part of a frame received so far plus
   * unread input. 0 derives it from the frame limit: 3 × MAX_MESSAGE_LENGTH + 64 KiB,
   * as UTF-8 takes at most 3 bytes per UTF-16 code unit.
   */
  @IntegerSetting(0, 2 * 1024 * 1024 * 1024)
  MAX_BUFFERED_BYTES = 0;

  /** Bytes of replies that may wait for a peer that does not read them before its connection is closed; 0 disables. */
  @IntegerSetting(0, 2 * 1024 * 1024 * 1024)
  MAX_SEND_BUFFER_BYTES = TransportDefaults.maxSendBufferBytes;

  /** Requests of one connection handled at once; the connection's further frames wait unread (TCP flow control). */
  @IntegerSetting(1, 65_536)
  MAX_IN_FLIGHT_PER_CONNECTION = TransportDefaults.maxInFlightPerConnection;

  /** Nagle's algorithm off (`true`): small replies leave at once instead of waiting for the peer's delayed ACK. */
  @BooleanSetting()
  TCP_NO_DELAY = true;

  /** Connections served at once; further ones are closed on arrival and counted. */
  @IntegerSetting(1, 100_000)
  MAX_CONNECTIONS = 1000;

  /** Upper bound of the `sleep` command. */
  @IntegerSetting(0, 600_000)
  SLEEP_MAX_MS = 10_000;

  /**
   * On SIGTERM/SIGINT, how long requests in flight may take to finish before the remaining
   * connections are closed anyway (and the process exits 1); 0 waits for none.
   */
  @IntegerSetting(0, 600_000)
  DRAIN_TIMEOUT_MS = 10_000;

  /** PEM certificate (chain) of the server; with TLS_KEY_FILE, the server speaks TLS only. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @RequiresAlso<EchoServerEnvironment>(['TLS_KEY_FILE'])
  @RequiresAlso<EchoServerEnvironment>(['TLS_CA_FILE'], {
    when: (env) => env.TLS_REQUIRE_CLIENT_CERT,
    because: 'to verify client certificates (TLS_REQUIRE_CLIENT_CERT=true, the default)',
  })
  TLS_CERT_FILE?: string;

  /** PEM private key of TLS_CERT_FILE (unencrypted). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @RequiresAlso<EchoServerEnvironment>(['TLS_CERT_FILE'])
  TLS_KEY_FILE?: string;

  /** PEM CA certificate(s) that client certificates must chain to. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @RequiresAlso<EchoServerEnvironment>(['TLS_CERT_FILE', 'TLS_KEY_FILE'], { because: '(TLS is on only with both)' })
  TLS_CA_FILE?: string;

  /** With TLS on: refuse clients without a certificate signed by TLS_CA_FILE (mutual TLS). */
  @BooleanSetting()
  TLS_REQUIRE_CLIENT_CERT = true;
}
