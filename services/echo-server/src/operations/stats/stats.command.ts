import { Injectable } from '@nestjs/common';
import { StatsService } from './stats.service';
import { Command } from '../../patterns/command/command.decorator';
import type { CommandHandler } from '../../patterns/command/command-handler';

@Injectable()
@Command({
  name: 'stats',
  usage: 'stats',
  description: 'server counters as JSON: connections, messages and events per pattern, commands, errors by code',
  maxArgs: 0,
})
export class StatsCommand implements CommandHandler {
  constructor(private readonly stats: StatsService) {}

  execute(): string {
    return JSON.stringify(this.stats.snapshot());
  }
}
