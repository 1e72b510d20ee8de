import type { ConsoleLogger, LogLevel } from '@nestjs/common';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './log-settings';
import { ServiceConsoleLogger } from './service-console-logger';

export interface ConsoleLoggerSettings {
  format: LogFormat;
  /** The most verbose level printed. */
  level: LogLevelName;
  /** The service's name: the prefix of readable lines, the `service` field of JSON records. */
  name: string;
  /** `split` is Nest's default (errors to stderr, the rest to stdout); `stderr` keeps stdout free. */
  streams?: 'split' | 'stderr';
}

/** Nest's console logger: one JSON object per line for `json`, readable lines otherwise, coloured only on a terminal. */
export function createConsoleLogger({ format, level, name, streams = 'split' }: ConsoleLoggerSettings): ConsoleLogger {
  const logLevels: LogLevel[] = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
  const stderrOnly = streams === 'stderr';
  if (format === 'json') {
    return new ServiceConsoleLogger({ service: name, stderrOnly, json: true, logLevels });
  }
  const terminal = stderrOnly ? process.stderr : process.stdout;
  const colors = Boolean(terminal.isTTY) && process.env.NO_COLOR === undefined;
  return new ServiceConsoleLogger({ service: name, stderrOnly, prefix: name, logLevels, colors });
}

/**
 * The console logger as LOG_FORMAT and LOG_LEVEL ask, read leniently (an invalid value counts as
 * unset; the service's validation reports it): for what a service logs before its configuration
 * is validated and its application built, such as the start of tracing, so that a `json` service
 * writes JSON from its first line. Install it with `Logger.overrideLogger`.
 */
export function consoleLoggerFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  { name, streams }: Pick<ConsoleLoggerSettings, 'name' | 'streams'>,
): ConsoleLogger {
  const format = env.LOG_FORMAT?.trim();
  const level = env.LOG_LEVEL?.trim();
  return createConsoleLogger({
    format: (LOG_FORMATS as readonly string[]).includes(format ?? '') ? (format as LogFormat) : 'text',
    level: (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevelName) : 'log',
    name,
    streams,
  });
}
