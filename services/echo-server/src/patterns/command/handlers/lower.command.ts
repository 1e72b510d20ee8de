import { Injectable } from '@nestjs/common';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

@Injectable()
@Command({ name: 'lower', usage: 'lower <text...>', description: 'the arguments, joined by spaces, in lower case', minArgs: 1 })
export class LowerCommand implements CommandHandler {
  execute(args: readonly string[]): string {
    return args.join(' ').toLowerCase();
  }
}
