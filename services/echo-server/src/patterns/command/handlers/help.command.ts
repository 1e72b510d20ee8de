import { Injectable } from '@nestjs/common';
import type { CommandDescriptor } from '@echo-pair/common';
import { CommandArgumentsError } from '../command-arguments.error';
import { CommandRegistry } from '../command-registry.service';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

@Injectable()
@Command({ name: 'help', usage: 'help [command]', description: 'lists the commands, or describes one', maxArgs: 1 })
export class HelpCommand implements CommandHandler {
  constructor(private readonly registry: CommandRegistry) {}

  execute([name]: readonly string[]): string {
    const commands = this.registry.describe();
    if (name === undefined) {
      return commands.map(formatLine).join('\n');
    }
    const command = commands.find((candidate) => candidate.name === name);
    if (!command) {
      throw new CommandArgumentsError(`no command "${name}"; known commands: ${this.registry.names().join(', ')}`);
    }
    return formatLine(command);
  }
}

function formatLine({ usage, description }: CommandDescriptor): string {
  return `${usage.padEnd(18)} ${description}`;
}
