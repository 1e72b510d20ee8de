/**
 * What the code under test logged, as captured by the test environment (quiet-environment.ts)
 * instead of printed: for a test to assert the warning or error it expects.
 *
 *   expectLogged('warn', /lost; reconnecting/);
 *   expectNotLogged('error');
 *
 * A line belongs to the test under way when it was written, from its `beforeEach` hooks to its
 * `afterEach` hooks; what a test's code logs after the test ended counts for the next one.
 */

/** Where the environment puts its `CapturedLogs` in the sandbox's global object. */
export const CAPTURED_LOGS = Symbol.for('echo-pair.captured-logs');

export type CapturedSource = 'stdout' | 'stderr' | 'console';

/** Nest's levels, `output` for a write that is not a Nest log line (nor a JSON record with a level). */
export type CapturedLevel = 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' | 'output';

export interface CapturedLine {
  /** Nest's level in lower case; a console call's method (`trace` counts as `verbose`). */
  level: string;
  /** Nest's context (`EchoClient`, `ClientTCP`), when the line names one. */
  context?: string;
  /** The message, without Nest's prefix (service, pid, time, level, context). */
  message: string;
  /** The whole line as it would have been printed, without colours. */
  text: string;
  source: CapturedSource;
  /** The full name of the test under way when it was logged; none outside tests. */
  test?: string;
}

export interface CapturedLogs {
  /** The lines of the test under way (`test`), or of the whole test file so far (`file`). */
  lines(scope: 'test' | 'file'): CapturedLine[];
  /** Forgets the lines of the test under way. */
  clear(): void;
}

export interface LineFilter {
  /** `test` (default): the test under way; `file`: everything the file logged so far, `beforeAll` included. */
  scope?: 'test' | 'file';
  context?: string;
}

function captured(): CapturedLogs {
  const logs = (globalThis as { [CAPTURED_LOGS]?: CapturedLogs })[CAPTURED_LOGS];
  if (logs === undefined) {
    throw new Error('no captured logs: the project does not use test/support/quiet-environment.ts as its testEnvironment');
  }
  return logs;
}

/** The captured lines of the test under way (or the file), of `level` if given. */
export function capturedLogs(level?: CapturedLevel, { scope = 'test', context }: LineFilter = {}): CapturedLine[] {
  return captured()
    .lines(scope)
    .filter((line) => (level === undefined || line.level === level) && (context === undefined || line.context === context));
}

/** Forgets the lines the test under way logged so far, e.g. those of its setup. */
export function clearCapturedLogs(): void {
  captured().clear();
}

function matching(level: CapturedLevel | undefined, pattern: RegExp | string | undefined, filter: LineFilter): CapturedLine[] {
  return capturedLogs(level, filter).filter((line) =>
    pattern === undefined ? true : typeof pattern === 'string' ? line.message.includes(pattern) : pattern.test(line.message),
  );
}

function describeLines(filter: LineFilter): string {
  const lines = capturedLogs(undefined, filter);
  return lines.length === 0 ? 'nothing was logged' : `logged:\n${lines.map((line) => `  ${line.text}`).join('\n')}`;
}

/**
 * Fails unless a line of `level` whose message matches `pattern` was logged (exactly `times`
 * such lines, if given); returns the matching lines.
 */
export function expectLogged(
  level: CapturedLevel,
  pattern: RegExp | string,
  { times, ...filter }: LineFilter & { times?: number } = {},
): CapturedLine[] {
  const found = matching(level, pattern, filter);
  if (times === undefined ? found.length === 0 : found.length !== times) {
    throw new Error(
      `expected ${times === undefined ? 'a' : `${times}`} ${level} line(s) matching ${String(pattern)}` +
        `${filter.context === undefined ? '' : ` from ${filter.context}`}, found ${found.length}; ${describeLines({ scope: filter.scope })}`,
    );
  }
  return found;
}

/** Fails if a line of `level` (matching `pattern`, if given) was logged. */
export function expectNotLogged(level: CapturedLevel, pattern?: RegExp | string, filter: LineFilter = {}): void {
  const found = matching(level, pattern, filter);
  if (found.length > 0) {
    throw new Error(
      `expected no ${level} line${pattern === undefined ? '' : ` matching ${String(pattern)}`}, found ${found.length}:\n` +
        found.map((line) => `  ${line.text}`).join('\n'),
    );
  }
}
