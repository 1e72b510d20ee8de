import { Injectable } from '@nestjs/common';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

@Injectable()
@Command({ name: 'time', usage: 'time', description: "the server's current time, ISO-8601 in UTC", maxArgs: 0 })
export class TimeCommand implements CommandHandler {
  execute(): string {
    return new Date().toISOString();
  }
}
