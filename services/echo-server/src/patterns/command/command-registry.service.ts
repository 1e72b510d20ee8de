import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { COMMAND_NAME_PATTERN, ErrorCodes, type CommandDescriptor } from '@echo-pair/common';
import { RpcEnvelopeException } from '../../core/rpc-envelope.exception';
import { CommandArgumentsError } from './command-arguments.error';
import { Command } from './command.decorator';
import type { CommandHandler, CommandMetadata } from './command-handler';

interface RegisteredCommand {
  metadata: CommandMetadata;
  handler: CommandHandler;
}

/** The allowlist of commands: every provider decorated with `@Command`, found at start-up. */
@Injectable()
export class CommandRegistry implements OnModuleInit {
  private readonly logger = new Logger(CommandRegistry.name);
  private readonly commands = new Map<string, RegisteredCommand>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: Command.KEY })) {
      const metadata = this.discovery.getMetadataByDecorator(Command, wrapper);
      if (metadata) {
        this.register(metadata, wrapper.instance as CommandHandler);
      }
    }
    this.logger.log(`commands: ${this.names().join(', ')}`);
  }

  register(metadata: CommandMetadata, handler: CommandHandler): void {
    if (!COMMAND_NAME_PATTERN.test(metadata.name)) {
      throw new Error(`command name "${metadata.name}" must match ${COMMAND_NAME_PATTERN.source}`);
    }
    if (this.commands.has(metadata.name)) {
      throw new Error(`command "${metadata.name}" is registered twice`);
    }
    if (typeof handler?.execute !== 'function') {
      throw new Error(`command "${metadata.name}" has no execute() method`);
    }
    this.commands.set(metadata.name, { metadata, handler });
  }

  names(): string[] {
    return [...this.commands.keys()].sort();
  }

  describe(): CommandDescriptor[] {
    return this.names().map((name) => {
      const { usage, description } = this.commands.get(name)!.metadata;
      return { name, usage, description };
    });
  }

  /** Runs a command; unknown names and bad arguments reject with an error envelope. */
  async execute(name: string, args: readonly string[]): Promise<string> {
    const command = this.commands.get(name);
    if (!command) {
      throw new RpcEnvelopeException({
        code: ErrorCodes.UNKNOWN_COMMAND,
        message: `unknown command "${name}"; known commands: ${this.names().join(', ')}`,
        details: { command: name, knownCommands: this.names() },
      });
    }
    this.checkArgumentCount(command.metadata, args);
    try {
      return await command.handler.execute(args);
    } catch (error) {
      if (error instanceof CommandArgumentsError) {
        throw invalidArguments(command.metadata, error.message);
      }
      throw error;
    }
  }

  private checkArgumentCount(metadata: CommandMetadata, args: readonly string[]): void {
    const { minArgs = 0, maxArgs } = metadata;
    if (args.length < minArgs) {
      throw invalidArguments(metadata, `expects at least ${minArgs} argument${minArgs === 1 ? '' : 's'}, got ${args.length}`);
    }
    if (maxArgs !== undefined && args.length > maxArgs) {
      throw invalidArguments(metadata, `expects at most ${maxArgs} argument${maxArgs === 1 ? '' : 's'}, got ${args.length}`);
    }
  }
}

function invalidArguments(metadata: CommandMetadata, reason: string): RpcEnvelopeException {
  return new RpcEnvelopeException({
    code: ErrorCodes.INVALID_COMMAND_ARGS,
    message: `${metadata.name}: ${reason} (usage: ${metadata.usage})`,
    details: { command: metadata.name, usage: metadata.usage },
  });
}
