import { IsIn } from 'class-validator';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from '../logging/log-settings';

/** The logging variables every service reads; services' environment classes extend it. */
export class LoggingEnvironment {
  /** `json` for one JSON object per line, `text` for readable lines. */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat = 'text';

  /** The most verbose level that is printed. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';
}
