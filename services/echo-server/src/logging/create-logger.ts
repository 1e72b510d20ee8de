import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { LOG_LEVELS, type EchoServerEnvironment } from '../config/echo-server-environment';

/** Nest's console logger: one JSON object per line for `json`, readable lines otherwise. */
export function createLogger(config: Pick<EchoServerEnvironment, 'LOG_FORMAT' | 'LOG_LEVEL' | 'SERVER_NAME'>): ConsoleLogger {
  const enabled: LogLevel[] = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.LOG_LEVEL) + 1);
  if (config.LOG_FORMAT === 'json') {
    return new ConsoleLogger({ json: true, logLevels: enabled });
  }
  const colors = Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined;
  return new ConsoleLogger({ prefix: config.SERVER_NAME, logLevels: enabled, colors });
}
