import { Injectable } from '@nestjs/common';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

@Injectable()
@Command({ name: 'upper', usage: 'upper <text...>', description: 'the arguments, joined by spaces, in upper case', minArgs: 1 })
export class UpperCommand implements CommandHandler {
  execute(args: readonly string[]): string {
    return args.join(' ').toUpperCase();
  }
}
