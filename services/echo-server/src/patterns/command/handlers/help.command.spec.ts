import { Test, type TestingModule } from '@nestjs/testing';
import { ErrorCodes, validatedConfigModule, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from '../../../config/echo-server-environment';
import { RpcEnvelopeException } from '../../../core/rpc-envelope.exception';
import { CommandArgumentsError } from '../command-arguments.error';
import { CommandRegistry } from '../command-registry.service';
// The stats module adds the `stats` and `uptime` commands (and counts commands), as in the server.
import { StatsModule } from '../../../operations/stats/stats.module';
import { CommandModule } from '../command.module';
import { HelpCommand } from './help.command';

/** Every command's usage, in the (sorted) order `help` lists them. */
const USAGES = ['help [command]', 'lower <text...>', 'reverse <text...>', 'sleep <ms>', 'stats', 'time', 'upper <text...>', 'uptime'];

describe('HelpCommand', () => {
  let moduleRef: TestingModule;
  let help: HelpCommand;
  let registry: CommandRegistry;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [validatedConfigModule(validateEnvironment(EchoServerEnvironment, { SLEEP_MAX_MS: '1000' })), CommandModule, StatsModule],
    }).compile();
    await moduleRef.init();
    help = moduleRef.get(HelpCommand);
    registry = moduleRef.get(CommandRegistry);
  });

  afterAll(async () => {
    await moduleRef.close();
  });

  it("lists every registered command's usage and description, one per line", () => {
    const lines = help.execute([]).split('\n');

    expect(lines).toHaveLength(USAGES.length);
    expect(lines).toEqual(registry.describe().map(({ usage, description }) => `${usage.padEnd(18)} ${description}`));
    lines.forEach((line, index) => expect(line.startsWith(`${USAGES[index]} `)).toBe(true));
  });

  it.each([
    { name: 'upper', line: 'upper <text...>    the arguments, joined by spaces, in upper case' },
    { name: 'time', line: "time               the server's current time, ISO-8601 in UTC" },
    { name: 'help', line: 'help [command]     lists the commands, or describes one' },
  ])('`help $name` is one line', ({ name, line }) => {
    expect(help.execute([name])).toBe(line);
  });

  it('rejects an unknown command with CommandArgumentsError naming the known ones', () => {
    expect(() => help.execute(['nope'])).toThrow(CommandArgumentsError);
    expect(() => help.execute(['nope'])).toThrow(
      'no command "nope"; known commands: help, lower, reverse, sleep, stats, time, upper, uptime',
    );
  });

  it('reaches the client as INVALID_COMMAND_ARGS when run through the registry', async () => {
    const failure = registry.execute('help', ['nope']);

    await expect(failure).rejects.toBeInstanceOf(RpcEnvelopeException);
    await expect(failure).rejects.toMatchObject({
      envelope: {
        code: ErrorCodes.INVALID_COMMAND_ARGS,
        message: 'help: no command "nope"; known commands: help, lower, reverse, sleep, stats, time, upper, uptime (usage: help [command])',
        details: { command: 'help', usage: 'help [command]' },
      },
    });
  });
});
