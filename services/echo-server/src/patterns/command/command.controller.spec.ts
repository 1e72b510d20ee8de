import { Test, type TestingModule } from '@nestjs/testing';
import { ErrorCodes, validatedConfigModule, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { StatsService } from '../../operations/stats/stats.service';
import { CommandController } from './command.controller';
import { CommandRegistry } from './command-registry.service';
// The stats module adds the `stats` and `uptime` commands (and counts commands), as in the server.
import { StatsModule } from '../../operations/stats/stats.module';
import { CommandModule } from './command.module';

// `sleep` waits with node:timers/promises, which Jest's fake timers do not reach: here its
// wait moves the fake clock instead, so that the time a command took is known exactly.
jest.mock('node:timers/promises', () => ({
  setTimeout: jest.fn((ms: number) => {
    jest.advanceTimersByTime(ms);
    return Promise.resolve();
  }),
}));

const NOW = '2026-03-04T05:06:07.890Z';

describe('CommandController', () => {
  let moduleRef: TestingModule;
  let controller: CommandController;
  let stats: StatsService;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [validatedConfigModule(validateEnvironment(EchoServerEnvironment, { SLEEP_MAX_MS: '1000' })), CommandModule, StatsModule],
    }).compile();
    await moduleRef.init();
    controller = moduleRef.get(CommandController);
    stats = moduleRef.get(StatsService);
  });

  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    await moduleRef.close();
  });

  it('returns the name, the args, the output and when and how long it ran', async () => {
    jest.useFakeTimers({ now: new Date(NOW) });

    const response = await controller.command({ name: 'upper', args: ['hi', 'there'] });

    expect(response).toEqual({ name: 'upper', args: ['hi', 'there'], output: 'HI THERE', startedAt: NOW, durationMs: 0 });
  });

  it('treats missing args as none', async () => {
    const response = await controller.command({ name: 'stats' });

    expect(response.args).toEqual([]);
    expect(JSON.parse(response.output)).toMatchObject({ messages: { command: 0 } });
  });

  it('measures the time the command took, from its start', async () => {
    jest.useFakeTimers({ now: new Date(NOW) });

    const response = await controller.command({ name: 'sleep', args: ['20'] });

    expect(response).toMatchObject({ output: 'slept 20 ms', startedAt: NOW, durationMs: 20 });
  });

  it('reports the duration in milliseconds rounded to 3 decimals', async () => {
    let now = 1_000;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
    jest.spyOn(moduleRef.get(CommandRegistry), 'execute').mockImplementation(() => {
      now += 12.345_678;
      return Promise.resolve('done');
    });

    expect((await controller.command({ name: 'upper', args: ['x'] })).durationMs).toBe(12.346);
  });

  it('counts each successful command by name', async () => {
    await controller.command({ name: 'upper', args: ['a'] });
    await controller.command({ name: 'upper', args: ['b'] });
    await controller.command({ name: 'time' });

    expect(stats.snapshot().commands).toEqual({ upper: 2, time: 1 });
  });

  it.each([
    { label: 'an unknown command', request: { name: 'nope' }, code: ErrorCodes.UNKNOWN_COMMAND },
    { label: 'a wrong argument count', request: { name: 'upper', args: [] }, code: ErrorCodes.INVALID_COMMAND_ARGS },
    { label: 'arguments the handler refuses', request: { name: 'sleep', args: ['-5'] }, code: ErrorCodes.INVALID_COMMAND_ARGS },
  ])('does not count $label and rethrows its envelope', async ({ request, code }) => {
    await expect(controller.command(request)).rejects.toMatchObject({ envelope: { code } });

    expect(stats.snapshot().commands).toEqual({});
  });

  it('does not count a command whose handler throws', async () => {
    const failure = new Error('handler exploded');
    jest.spyOn(moduleRef.get(CommandRegistry), 'execute').mockRejectedValueOnce(failure);

    await expect(controller.command({ name: 'upper', args: ['x'] })).rejects.toBe(failure);
    expect(stats.snapshot().commands).toEqual({});
  });
});
