/**
 * The two values of ECHO_FAST_PATH (docs/performance.md): the fast paths (the default) and the
 * stock Nest and class-validator paths, for suites that must pass the same way with both.
 */
export const FAST_PATH_MODES = [
  { mode: 'fast path', ECHO_FAST_PATH: 'true' },
  { mode: 'stock Nest paths', ECHO_FAST_PATH: 'false' },
] as const;

export type FastPathValue = (typeof FAST_PATH_MODES)[number]['ECHO_FAST_PATH'];

/**
 * Sets ECHO_FAST_PATH in this test file's `process.env` for the enclosing suite, so that the
 * clients it creates (`EchoClientTcp` reads it when built) take the same path as its server
 * (start that with `{ ECHO_FAST_PATH: value }`); restores it afterwards. Call it before the
 * suite's own `beforeAll`.
 */
export function clientsOnFastPath(value: FastPathValue): void {
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.ECHO_FAST_PATH;
    process.env.ECHO_FAST_PATH = value;
  });
  afterAll(() => {
    if (before === undefined) {
      delete process.env.ECHO_FAST_PATH;
    } else {
      process.env.ECHO_FAST_PATH = before;
    }
  });
}
