import type { ConsoleLogger, LogLevel } from '@nestjs/common';
import { LOG_LEVELS, type LogFormat, type LogLevelName } from './log-settings';
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
