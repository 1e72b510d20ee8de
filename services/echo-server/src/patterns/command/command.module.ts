import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { COMMAND_CATALOG } from '../../core/command-catalog';
import { CommandController } from './command.controller';
import { CommandRegistry } from './command-registry.service';
import { HelpCommand } from './handlers/help.command';
import { LowerCommand } from './handlers/lower.command';
import { ReverseCommand } from './handlers/reverse.command';
import { SleepCommand } from './handlers/sleep.command';
import { TimeCommand } from './handlers/time.command';
import { UpperCommand } from './handlers/upper.command';

/**
 * The built-in commands. The registry serves every provider decorated with
 * `@Command` (see command.decorator.ts): code, never text a peer sent, decides what runs.
 */
const COMMAND_HANDLERS = [UpperCommand, LowerCommand, ReverseCommand, TimeCommand, SleepCommand, HelpCommand];

/** The `command` pattern; global so that a door can list the commands (COMMAND_CATALOG) without importing patterns. */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [CommandController],
  providers: [CommandRegistry, ...COMMAND_HANDLERS, { provide: COMMAND_CATALOG, useExisting: CommandRegistry }],
  exports: [CommandRegistry, COMMAND_CATALOG],
})
export class CommandModule {}
