import { InvalidConfigurationError } from '../operations/config/validate-environment';
import { fastPathEnabled } from './fast-path';

describe('fastPathEnabled', () => {
  it.each([
    { env: {}, expected: true },
    { env: { ECHO_FAST_PATH: undefined }, expected: true },
    { env: { ECHO_FAST_PATH: '' }, expected: true },
    { env: { ECHO_FAST_PATH: ' ' }, expected: true },
    { env: { ECHO_FAST_PATH: 'true' }, expected: true },
    { env: { ECHO_FAST_PATH: 'false' }, expected: false },
  ])('reads $env as $expected', ({ env, expected }) => {
    expect(fastPathEnabled(env)).toBe(expected);
  });

  it.each(['yes', 'no', '0', '1', 'TRUE', 'False', ' false'])('refuses %j rather than taking it as true', (value) => {
    expect(() => fastPathEnabled({ ECHO_FAST_PATH: value })).toThrow(InvalidConfigurationError);
    expect(() => fastPathEnabled({ ECHO_FAST_PATH: value })).toThrow(
      `ECHO_FAST_PATH=${JSON.stringify(value)}: ECHO_FAST_PATH must be a boolean value (true or false)`,
    );
  });

  it('reads process.env by default', () => {
    const before = process.env.ECHO_FAST_PATH;
    try {
      process.env.ECHO_FAST_PATH = 'false';
      expect(fastPathEnabled()).toBe(false);
      delete process.env.ECHO_FAST_PATH;
      expect(fastPathEnabled()).toBe(true);
    } finally {
      if (before === undefined) {
        delete process.env.ECHO_FAST_PATH;
      } else {
        process.env.ECHO_FAST_PATH = before;
      }
    }
  });
});
