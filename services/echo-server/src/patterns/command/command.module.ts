import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { StatsModule } from '../../operations/stats/stats.module';
import { CommandController } from './command.controller';
import { CommandRegistry } from './command-registry.service';
import { HelpCommand } from './handlers/help.command';
import { LowerCommand } from './handlers/lower.command';
import { ReverseCommand } from './handlers/reverse.command';
import { SleepCommand } from './handlers/sleep.command';
import { StatsCommand } from '../../operations/stats/stats.command';
import { TimeCommand } from './handlers/time.command';
import { UpperCommand } from './handlers/upper.command';
import { UptimeCommand } from '../../operations/stats/uptime.command';

/**
 * The built-in commands. The registry serves every provider decorated with
 * `@Command` (see command.decorator.ts): code, never text a peer sent, decides what runs.
 */
export const COMMAND_HANDLERS = [
  UpperCommand,
  LowerCommand,
  ReverseCommand,
  TimeCommand,
  UptimeCommand,
  StatsCommand,
  SleepCommand,
  HelpCommand,
];

@Module({
  imports: [DiscoveryModule, StatsModule],
  controllers: [CommandController],
  providers: [CommandRegistry, ...COMMAND_HANDLERS],
  exports: [CommandRegistry],
})
export class CommandModule {}
