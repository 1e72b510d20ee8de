import { IsIn, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { LOG_FORMATS, LOG_LEVELS, ToInteger, type LogFormat, type LogLevelName } from '@echo-pair/common';

/** Environment variables of the echo server, with their defaults. */
export class EchoServerEnvironment {
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

  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat = 'text';

  /** The most verbose level that is printed. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';

  /** Largest frame accepted, in UTF-16 code units of its JSON (the framing's unit). */
  @ToInteger()
  @IsInt()
  @Min(1024)
  @Max(512 * 1024 * 1024)
  MAX_MESSAGE_LENGTH = 8 * 1024 * 1024;

  /** A connection whose frame stays incomplete this long is closed; 0 disables. */
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  INCOMPLETE_MESSAGE_TIMEOUT_MS = 10_000;

  /** Upper bound of the `sleep` command. */
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(600_000)
  SLEEP_MAX_MS = 10_000;
}
