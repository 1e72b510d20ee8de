import { Injectable, type ModuleMetadata } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { ErrorCodes, validatedConfigModule, validateEnvironment, type RpcErrorEnvelope } from '@echo-pair/common';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { RpcEnvelopeException } from '../../core/rpc-envelope.exception';
import { CommandArgumentsError } from './command-arguments.error';
import type { CommandHandler, CommandMetadata } from './command-handler';
import { CommandRegistry } from './command-registry.service';
import { Command } from './command.decorator';
// The stats module adds the `stats` and `uptime` commands (and counts commands), as in the server.
import { StatsModule } from '../../operations/stats/stats.module';
import { CommandModule } from './command.module';

const ALL_COMMANDS = ['help', 'lower', 'reverse', 'sleep', 'stats', 'time', 'upper', 'uptime'];

const config = validatedConfigModule(validateEnvironment(EchoServerEnvironment, { SLEEP_MAX_MS: '1000' }));

async function startModule(metadata: ModuleMetadata = {}): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [config, CommandModule, StatsModule, ...(metadata.imports ?? [])],
  }).compile();
  return moduleRef.init();
}

/** A registry with nothing discovered, for `register` and `execute` in isolation. */
function emptyRegistry(): CommandRegistry {
  const discovery = { getProviders: () => [], getMetadataByDecorator: () => undefined } as unknown as DiscoveryService;
  const registry = new CommandRegistry(discovery);
  registry.onModuleInit();
  return registry;
}

async function envelopeOf(promise: Promise<unknown>): Promise<RpcErrorEnvelope> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RpcEnvelopeException);
  const { envelope } = error as RpcEnvelopeException;
  expect((error as RpcEnvelopeException).getError()).toBe(envelope);
  return envelope;
}

@Injectable()
@Command({ name: 'shout-twice', usage: 'shout-twice <word>', description: 'test command outside CommandModule', minArgs: 1, maxArgs: 1 })
class ShoutTwiceCommand implements CommandHandler {
  execute([word]: readonly string[]): string {
    return `${word.toUpperCase()} ${word.toUpperCase()}`;
  }
}

@Injectable()
@Command({ name: 'upper', usage: 'upper', description: 'clashes with the built-in upper' })
class SecondUpperCommand implements CommandHandler {
  execute(): string {
    return 'second';
  }
}

describe('CommandRegistry', () => {
  describe('discovery through CommandModule', () => {
    let moduleRef: TestingModule;
    let registry: CommandRegistry;

    beforeAll(async () => {
      moduleRef = await startModule();
      registry = moduleRef.get(CommandRegistry);
    });

    afterAll(async () => {
      await moduleRef.close();
    });

    it('registers exactly the eight built-in commands, sorted', () => {
      expect(registry.names()).toEqual(ALL_COMMANDS);
    });

    it('describes each command by name, usage and description only', () => {
      const descriptors = registry.describe();

      expect(descriptors.map((descriptor) => descriptor.name)).toEqual(ALL_COMMANDS);
      for (const descriptor of descriptors) {
        expect(Object.keys(descriptor).sort()).toEqual(['description', 'name', 'usage']);
        expect(descriptor.usage.split(' ')[0]).toBe(descriptor.name);
        expect(descriptor.description).not.toBe('');
      }
    });

    it('runs a discovered command', async () => {
      await expect(registry.execute('upper', ['hi', 'there'])).resolves.toBe('HI THERE');
      await expect(registry.execute('reverse', ['abc', '你好'])).resolves.toBe('好你 cba');
    });

    it('rejects an unknown command with UNKNOWN_COMMAND listing the known ones', async () => {
      const envelope = await envelopeOf(registry.execute('nope', []));

      expect(envelope).toEqual({
        code: ErrorCodes.UNKNOWN_COMMAND,
        message: `unknown command "nope"; known commands: ${ALL_COMMANDS.join(', ')}`,
        details: { command: 'nope', knownCommands: ALL_COMMANDS },
      });
    });

    it.each([
      { name: 'upper', args: [], reason: 'expects at least 1 argument, got 0', usage: 'upper <text...>' },
      { name: 'reverse', args: [], reason: 'expects at least 1 argument, got 0', usage: 'reverse <text...>' },
      { name: 'sleep', args: [], reason: 'expects at least 1 argument, got 0', usage: 'sleep <ms>' },
      { name: 'sleep', args: ['1', '2'], reason: 'expects at most 1 argument, got 2', usage: 'sleep <ms>' },
      { name: 'help', args: ['upper', 'lower'], reason: 'expects at most 1 argument, got 2', usage: 'help [command]' },
      { name: 'time', args: ['now'], reason: 'expects at most 0 arguments, got 1', usage: 'time' },
      { name: 'stats', args: ['a', 'b'], reason: 'expects at most 0 arguments, got 2', usage: 'stats' },
      { name: 'uptime', args: ['x'], reason: 'expects at most 0 arguments, got 1', usage: 'uptime' },
    ])('rejects $name with $args.length args as INVALID_COMMAND_ARGS', async ({ name, args, reason, usage }) => {
      const envelope = await envelopeOf(registry.execute(name, args));

      expect(envelope).toEqual({
        code: ErrorCodes.INVALID_COMMAND_ARGS,
        message: `${name}: ${reason} (usage: ${usage})`,
        details: { command: name, usage },
      });
    });

    it("turns a handler's CommandArgumentsError into INVALID_COMMAND_ARGS", async () => {
      const envelope = await envelopeOf(registry.execute('sleep', ['abc']));

      expect(envelope).toEqual({
        code: ErrorCodes.INVALID_COMMAND_ARGS,
        message: 'sleep: <ms> must be a whole number from 0 to 1000, got "abc" (usage: sleep <ms>)',
        details: { command: 'sleep', usage: 'sleep <ms>' },
      });
    });
  });

  describe('discovery of other providers', () => {
    it('finds a @Command provider declared outside CommandModule', async () => {
      const moduleRef = await startModule({ providers: [ShoutTwiceCommand] });
      try {
        const registry = moduleRef.get(CommandRegistry);
        expect(registry.names()).toEqual([...ALL_COMMANDS, 'shout-twice'].sort());
        await expect(registry.execute('shout-twice', ['hey'])).resolves.toBe('HEY HEY');
      } finally {
        await moduleRef.close();
      }
    });

    it('refuses to start when two providers claim the same name', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [config, CommandModule, StatsModule],
        providers: [SecondUpperCommand],
      }).compile();
      try {
        await expect(moduleRef.init()).rejects.toThrow('command "upper" is registered twice');
      } finally {
        await moduleRef.close();
      }
    });
  });

  describe('execute', () => {
    const metadata: CommandMetadata = { name: 'probe', usage: 'probe [x]', description: 'test' };

    it.each([
      { label: 'a TypeError', error: new TypeError('boom') },
      { label: 'an RpcEnvelopeException', error: new RpcEnvelopeException({ code: 'INTERNAL_ERROR', message: 'x', details: {} }) },
      { label: 'a plain string', error: 'not an error' },
    ])('lets $label from a handler pass through unchanged', async ({ error }) => {
      const registry = emptyRegistry();
      registry.register(metadata, {
        execute: () => {
          // A handler may throw anything; non-Error values must pass through too.
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw error;
        },
      });

      await expect(registry.execute('probe', [])).rejects.toBe(error);
    });

    it('passes a rejected promise through unchanged', async () => {
      const registry = emptyRegistry();
      const error = new RangeError('async boom');
      registry.register(metadata, { execute: () => Promise.reject(error) });

      await expect(registry.execute('probe', [])).rejects.toBe(error);
    });

    it('awaits an asynchronous handler and hands it the arguments as given', async () => {
      const registry = emptyRegistry();
      const execute = jest.fn((args: readonly string[]) => Promise.resolve(args.join('|')));
      registry.register(metadata, { execute });

      await expect(registry.execute('probe', ['a', 'b c'])).resolves.toBe('a|b c');
      expect(execute).toHaveBeenCalledWith(['a', 'b c']);
    });

    it('does not call the handler when the argument count is wrong', async () => {
      const registry = emptyRegistry();
      const execute = jest.fn(() => 'ran');
      registry.register({ ...metadata, minArgs: 2, maxArgs: 3 }, { execute });

      await expect(registry.execute('probe', ['1'])).rejects.toMatchObject({
        envelope: { message: 'probe: expects at least 2 arguments, got 1 (usage: probe [x])' },
      });
      await expect(registry.execute('probe', ['1', '2', '3', '4'])).rejects.toMatchObject({
        envelope: { message: 'probe: expects at most 3 arguments, got 4 (usage: probe [x])' },
      });
      expect(execute).not.toHaveBeenCalled();
      await expect(registry.execute('probe', ['1', '2', '3'])).resolves.toBe('ran');
    });

    it('maps a CommandArgumentsError from a custom handler', async () => {
      const registry = emptyRegistry();
      registry.register(metadata, {
        execute: () => {
          throw new CommandArgumentsError('x must be y');
        },
      });

      await expect(envelopeOf(registry.execute('probe', []))).resolves.toEqual({
        code: ErrorCodes.INVALID_COMMAND_ARGS,
        message: 'probe: x must be y (usage: probe [x])',
        details: { command: 'probe', usage: 'probe [x]' },
      });
    });
  });

  describe('register', () => {
    const handler: CommandHandler = { execute: () => 'ok' };
    const describeAs = (name: string): CommandMetadata => ({ name, usage: name, description: 'test' });

    it.each(['a', 'upper', 'my-command', 'v2', 'a1-b2-c3'])('accepts the name "%s"', (name) => {
      const registry = emptyRegistry();
      registry.register(describeAs(name), handler);
      expect(registry.names()).toEqual([name]);
    });

    it.each(['', 'Upper', 'my command', 'my_command', '-x', 'x-', 'a--b', '1abc', 'ünïcode', 'upper\n'])('rejects the name %j', (name) => {
      const registry = emptyRegistry();
      expect(() => registry.register(describeAs(name), handler)).toThrow(
        `command name "${name}" must match ^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$`,
      );
      expect(registry.names()).toEqual([]);
    });

    it('rejects a second command with the same name and keeps the first', async () => {
      const registry = emptyRegistry();
      registry.register(describeAs('dup'), { execute: () => 'first' });

      expect(() => registry.register(describeAs('dup'), { execute: () => 'second' })).toThrow('command "dup" is registered twice');
      await expect(registry.execute('dup', [])).resolves.toBe('first');
    });

    it.each([
      { label: 'an object without execute', candidate: {} },
      { label: 'a non-function execute', candidate: { execute: 'run' } },
      { label: 'null', candidate: null },
      { label: 'undefined', candidate: undefined },
    ])('rejects $label as handler', ({ candidate }) => {
      const registry = emptyRegistry();
      expect(() => registry.register(describeAs('broken'), candidate as unknown as CommandHandler)).toThrow(
        'command "broken" has no execute() method',
      );
      expect(registry.names()).toEqual([]);
    });
  });
});
