import type { ConfigService } from '@nestjs/config';
import { setTimeout as delay } from 'node:timers/promises';
import type { EchoServerEnvironment } from '../../../config/echo-server-environment';
import { CommandArgumentsError } from '../command-arguments.error';
import { SleepCommand } from './sleep.command';

// Jest's fake timers do not reach `node:timers/promises`, so the delay itself is replaced.
jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(() => Promise.resolve()) }));

const SLEEP_MAX_MS = 1000;

function configWith(values: Partial<EchoServerEnvironment>): ConfigService<EchoServerEnvironment, true> {
  return { get: jest.fn((key: keyof EchoServerEnvironment) => values[key]) } as unknown as ConfigService<EchoServerEnvironment, true>;
}

describe('SleepCommand', () => {
  const delayMock = jest.mocked(delay);
  let config: ConfigService<EchoServerEnvironment, true>;
  let command: SleepCommand;

  beforeEach(() => {
    delayMock.mockClear();
    config = configWith({ SLEEP_MAX_MS });
    command = new SleepCommand(config);
  });

  it('reads its bound from SLEEP_MAX_MS', () => {
    expect(config.get).toHaveBeenCalledWith('SLEEP_MAX_MS', { infer: true });
  });

  it.each([
    { raw: '0', ms: 0 },
    { raw: '1', ms: 1 },
    { raw: '250', ms: 250 },
    { raw: '007', ms: 7 },
    { raw: String(SLEEP_MAX_MS), ms: SLEEP_MAX_MS },
  ])('sleeps "$raw" → $ms ms', async ({ raw, ms }) => {
    await expect(command.execute([raw])).resolves.toBe(`slept ${ms} ms`);
    expect(delayMock).toHaveBeenCalledTimes(1);
    expect(delayMock).toHaveBeenCalledWith(ms);
  });

  it.each([
    { label: 'a fraction', raw: '1.5' },
    { label: 'a negative number', raw: '-1' },
    { label: 'exponent notation', raw: '1e3' },
    { label: 'hexadecimal', raw: '0x10' },
    { label: 'a word', raw: 'abc' },
    { label: 'an empty string', raw: '' },
    { label: 'surrounding spaces', raw: ' 5 ' },
    { label: 'full-width digits', raw: '１２' },
    { label: 'one over SLEEP_MAX_MS', raw: String(SLEEP_MAX_MS + 1) },
    { label: 'ten digits', raw: '1000000000' },
  ])('rejects $label ("$raw") without sleeping', async ({ raw }) => {
    const failure = command.execute([raw]);

    await expect(failure).rejects.toBeInstanceOf(CommandArgumentsError);
    await expect(failure).rejects.toThrow(`<ms> must be a whole number from 0 to ${SLEEP_MAX_MS}, got "${raw}"`);
    expect(delayMock).not.toHaveBeenCalled();
  });

  it('follows a different bound from the config', async () => {
    const strict = new SleepCommand(configWith({ SLEEP_MAX_MS: 5 }));

    await expect(strict.execute(['5'])).resolves.toBe('slept 5 ms');
    await expect(strict.execute(['6'])).rejects.toThrow('<ms> must be a whole number from 0 to 5, got "6"');
  });
});
