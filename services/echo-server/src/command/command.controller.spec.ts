import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { ErrorCodes } from '@echo-pair/common';
import { StatsService } from '../stats/stats.service';
import { CommandController } from './command.controller';
import { CommandRegistry } from './command-registry.service';
import { CommandModule } from './command.module';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('CommandController', () => {
  let moduleRef: TestingModule;
  let controller: CommandController;
  let stats: StatsService;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => ({ SLEEP_MAX_MS: 1000 })] }),
        CommandModule,
      ],
    }).compile();
    await moduleRef.init();
    controller = moduleRef.get(CommandController);
    stats = moduleRef.get(StatsService);
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('returns the name, the args, the output and when and how long it ran', async () => {
    const before = Date.now();
    const response = await controller.command({ name: 'upper', args: ['hi', 'there'] });

    expect(response).toEqual({
      name: 'upper',
      args: ['hi', 'there'],
      output: 'HI THERE',
      startedAt: expect.stringMatching(ISO_UTC) as unknown,
      durationMs: expect.any(Number) as unknown,
    });
    expect(Date.parse(response.startedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(response.startedAt)).toBeLessThanOrEqual(Date.now());
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
    expect(response.durationMs).toBe(Number(response.durationMs.toFixed(3)));
  });

  it('treats missing args as none', async () => {
    const response = await controller.command({ name: 'stats' });

    expect(response.args).toEqual([]);
    expect(JSON.parse(response.output)).toMatchObject({ messages: { command: 0 } });
  });

  it('measures the time the command took', async () => {
    const response = await controller.command({ name: 'sleep', args: ['20'] });

    expect(response.output).toBe('slept 20 ms');
    // Timers may fire a millisecond early; anything near 20 ms shows the wait was measured.
    expect(response.durationMs).toBeGreaterThanOrEqual(18);
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
