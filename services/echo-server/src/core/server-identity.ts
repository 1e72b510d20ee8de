import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The version in this service's package.json (one level above `src` and `dist`). */
export const SERVER_VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
  .version;

export const SERVER_INSTANCE = hostname();

/** The client name the container's healthcheck says hello with (logged at debug level only). */
export const HEALTHCHECK_CLIENT = 'healthcheck';
