import { Injectable } from '@nestjs/common';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

@Injectable()
@Command({
  name: 'reverse',
  usage: 'reverse <text...>',
  description: 'the arguments, joined by spaces, reversed by user-perceived character (emoji and accents stay whole)',
  minArgs: 1,
})
export class ReverseCommand implements CommandHandler {
  execute(args: readonly string[]): string {
    return Array.from(graphemes.segment(args.join(' ')), (part) => part.segment)
      .reverse()
      .join('');
  }
}
