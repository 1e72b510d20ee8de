import { IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { LoggingEnvironment, MIN_FRAME_LENGTH, ToInteger } from '@echo-pair/common';

/** Environment variables of the echo server, with their defaults. */
export class EchoServerEnvironment extends LoggingEnvironment {
  /** Address to listen on. Nest's TCP transport defaults to `localhost`, which no other container can reach. */
  @IsString()
  @IsNotEmpty()
  ECHO_HOST = '0.0.0.0';

  /** Port to listen on; 0 picks a free one (used by tests). */
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(65535)
  ECHO_PORT = 3000;

  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  SERVER_NAME = 'echo-server';

  /**
   * Largest frame accepted, in UTF-16 code units of its JSON (the framing's unit).
   * At least MIN_FRAME_LENGTH, the longest frame a valid request can take.
   */
  @ToInteger()
  @IsInt()
  @Min(MIN_FRAME_LENGTH)
  @Max(512 * 1024 * 1024)
  MAX_MESSAGE_LENGTH = 8 * 1024 * 1024;

  /** A connection that goes silent this long in the middle of a frame is closed; 0 disables. */
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  INCOMPLETE_MESSAGE_TIMEOUT_MS = 10_000;

  /** Connections served at once; further ones are closed on arrival and counted. */
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(100_000)
  MAX_CONNECTIONS = 1000;

  /** Upper bound of the `sleep` command. */
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(600_000)
  SLEEP_MAX_MS = 10_000;
}
