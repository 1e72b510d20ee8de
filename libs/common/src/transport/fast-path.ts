import { InvalidConfigurationError } from '../contract/invalid-configuration.error';

/** The environment variable that switches the fast paths off (`false`): stock Nest and class-validator run instead. */
const FAST_PATH_VARIABLE = 'ECHO_FAST_PATH';

/**
 * Whether the fast paths are on, from `ECHO_FAST_PATH` as the project's boolean settings read it:
 * exactly `true` or `false`, unset or blank meaning the default (`true`). Anything else throws an
 * `InvalidConfigurationError`: a mistyped value must not silently keep the fast paths. See
 * docs/performance.md.
 */
export function fastPathEnabled(env: Record<string, string | undefined> = process.env): boolean {
  const value = env[FAST_PATH_VARIABLE];
  if (value === undefined || value.trim() === '' || value === 'true') {
    return true;
  }
  if (value === 'false') {
    return false;
  }
  throw new InvalidConfigurationError(
    `${FAST_PATH_VARIABLE}=${JSON.stringify(value)}: ${FAST_PATH_VARIABLE} must be a boolean value (true or false)`,
  );
}
