import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { BooleanSetting, IntegerSetting, LoggingEnvironment, MIN_FRAME_LENGTH, RequiresAlso, TransportDefaults } from '@echo-pair/common';
import { IsAddressList } from './is-address-list.decorator';

/** The text doors' encodings: UTF-8, GBK, or detected per line. */
export const ENCODING_SETTINGS = ['auto', 'utf-8', 'gbk'] as const;
export type EncodingSetting = (typeof ENCODING_SETTINGS)[number];
export type TextEncodingName = Exclude<EncodingSetting, 'auto'>;

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

  /**
   * Connections served at once on the Nest TCP port; at the cap, the connection that has been idle
   * longest (no complete frame) is closed to make room for a newcomer.
   */
  @IntegerSetting(1, 100_000)
  MAX_CONNECTIONS = 1000;

  /**
   * Connections one address may hold on each connection door (the Nest TCP port, the text
   * gateway); an IPv6 address counts by its /64. Further ones are refused (the text door says
   * `ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS`); 0 turns the limit off. 256, a quarter of the
   * doors' 1000: a NAT or proxy in front of many users fits, no single address can hold more than
   * a quarter of a door. See docs/doors.md.
   */
  @IntegerSetting(0, 100_000)
  MAX_CONNECTIONS_PER_ADDRESS = 256;

  /**
   * The Nest TCP and text doors read a PROXY protocol header (v1 or v2, as HAProxy and cloud load
   * balancers send it) from connections of TRUSTED_PROXIES, and count and log the client it names
   * instead of the proxy. Not with TLS on the Nest port. See docs/doors.md.
   */
  @BooleanSetting()
  PROXY_PROTOCOL = false;

  /** Addresses and CIDR ranges (comma-separated) whose PROXY headers are believed, e.g. `10.0.0.0/8,fd00::/8`; others are direct clients. */
  @IsAddressList()
  TRUSTED_PROXIES = '';

  /**
   * Refused connections, rejected peers and evictions are logged as one summary line per interval
   * (counts per reason, the top addresses), after the interval's first REFUSAL_LOG_FULL_LINES in full.
   */
  @IntegerSetting(100, 3_600_000)
  REFUSAL_LOG_INTERVAL_MS = 10_000;

  /** How many refusals of an interval are logged in full, one line each, before the rest are only counted for its summary. */
  @IntegerSetting(0, 100_000)
  REFUSAL_LOG_FULL_LINES = 5;

  /**
   * `false` runs the stock Nest and class-validator paths where the server has faster ones (the TCP
   * transport's dispatch and route lookup, the validation pipe): the same bytes and errors, slower.
   * See docs/performance.md.
   */
  @BooleanSetting()
  ECHO_FAST_PATH = true;

  /**
   * Whether the server checks what each handler returns against its pattern's response class
   * (`CONTRACT.requests[pattern].response`): a response that breaks the contract fails the call with
   * `INVALID_RESPONSE`, naming the fields, and is logged; nothing that breaks the contract goes out.
   * Unset, it follows NODE_ENV: on, unless NODE_ENV=production, which the Docker image's runtime
   * stages set (so tests, `npm run demo` and development check responses, production does not pay
   * for it). `false` registers no check at all. See `validatesResponses` and docs/contract.md.
   */
  @IsOptional()
  @BooleanSetting()
  VALIDATE_RESPONSES?: boolean;

  /** Read only for VALIDATE_RESPONSES's default: `production` turns the check off unless it is set. */
  @IsOptional()
  @IsString()
  NODE_ENV?: string;

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

  /** The plain-text line gateway (tutorial clients, `nc`, chat); `false` turns it off. */
  @BooleanSetting()
  TEXT_ENABLED = true;

  /** Address of the text gateway; defaults to ECHO_HOST. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  TEXT_HOST?: string;

  /** Port of the text gateway; 0 picks a free one. */
  @IntegerSetting(0, 65535)
  TEXT_PORT = 3001;

  /** `auto` detects UTF-8 or GBK per connection from its first non-ASCII bytes (and `/encoding` switches); `utf-8` or `gbk` fixes it for the port. */
  @IsIn(ENCODING_SETTINGS)
  TEXT_ENCODING: EncodingSetting = 'auto';

  /** Longest line, in bytes; a longer one gets `ERR LINE_TOO_LONG` and the rest of it is discarded. */
  @IntegerSetting(64, 4 * 1024 * 1024)
  TEXT_MAX_LINE_BYTES = 64 * 1024;

  /** A partial line (no newline yet) is taken as a message once the peer has paused this long: tutorial clients send without a newline. */
  @IntegerSetting(1, 10_000)
  TEXT_IDLE_FLUSH_MS = 30;

  /** A connection that has said nothing this long after it opened is sent the welcome line; one that speaks first gets its reply first, and no welcome. */
  @IntegerSetting(0, 60_000)
  TEXT_WELCOME_DELAY_MS = 200;

  /** A text connection that has sent no complete line this long is closed (bytes of an unfinished line do not count); 0 disables. */
  @IntegerSetting(0, 86_400_000)
  TEXT_IDLE_TIMEOUT_MS = 300_000;

  /**
   * A line must be complete (its newline, or a pause the idle flush takes as its end) this long
   * after its first byte; otherwise the connection gets `ERR LIMIT_REACHED TEXT_LINE_TIMEOUT_MS`
   * and is closed, so that dripping bytes cannot hold a connection; 0 disables.
   */
  @IntegerSetting(0, 3_600_000)
  TEXT_LINE_TIMEOUT_MS = 30_000;

  /** Text connections served at once; at the cap, the one idle longest (no complete line) is closed to make room for a newcomer. */
  @IntegerSetting(1, 100_000)
  TEXT_MAX_CONNECTIONS = 1000;

  /**
   * No longer read: chat members are held to CHAT_STALL_MS and CHAT_MAX_BACKLOG_BYTES, and a peer
   * that does not read its replies is paused (flow control). Still accepted, so that settings naming it stay valid.
   */
  @IntegerSetting(4096, 1024 * 1024 * 1024)
  TEXT_MAX_SEND_BUFFER_BYTES = 1024 * 1024;

  /** Chat rooms open at once. */
  @IntegerSetting(1, 100_000)
  CHAT_MAX_ROOMS = 100;

  /** Members of one chat room. */
  @IntegerSetting(2, 10_000)
  CHAT_MAX_MEMBERS = 50;

  /**
   * A chat member with lines waiting for it that reads none of them for this long is cut off.
   * A member that reads holds its room's senders back instead (they wait, their sockets unread).
   */
  @IntegerSetting(100, 3_600_000)
  CHAT_STALL_MS = 30_000;

  /**
   * Bytes of chat lines that may wait for one member (what the kernel has not taken); past it
   * the member is cut off at once. Bounds the memory a member that stopped reading holds.
   */
  @IntegerSetting(4096, 1024 * 1024 * 1024)
  CHAT_MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

  /** The UDP endpoint (text lines and Nest packets as datagrams); `false` turns it off. */
  @BooleanSetting()
  UDP_ENABLED = true;

  /** Address of the UDP endpoint; defaults to ECHO_HOST. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  UDP_HOST?: string;

  /** UDP port (3001/udp beside the text gateway's 3001/tcp); 0 picks a free one. */
  @IntegerSetting(0, 65535)
  UDP_PORT = 3001;

  /** Largest datagram accepted, in bytes; larger ones are dropped and counted. */
  @IntegerSetting(512, 65_507)
  UDP_MAX_DATAGRAM_BYTES = 16 * 1024;

  /** The HTTP side port (`/metrics` in Prometheus text format, `/healthz`, `/readyz`); `false` turns it off. */
  @BooleanSetting()
  METRICS_ENABLED = true;

  /** Address of the HTTP side port; defaults to ECHO_HOST. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  METRICS_HOST?: string;

  /** Port of the HTTP side port (Prometheus exporters' conventional 9464); 0 picks a free one. */
  @IntegerSetting(0, 65535)
  METRICS_PORT = 9464;
}

/** VALIDATE_RESPONSES, or its default when unset: on unless NODE_ENV=production. */
export function validatesResponses(environment: Pick<EchoServerEnvironment, 'VALIDATE_RESPONSES' | 'NODE_ENV'>): boolean {
  return environment.VALIDATE_RESPONSES ?? environment.NODE_ENV !== 'production';
}
