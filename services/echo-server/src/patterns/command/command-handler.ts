import type { CommandDescriptor } from '@echo-pair/common';

/** How a command is described to clients (`hello`, `help`) and how many args it takes. */
export interface CommandMetadata extends CommandDescriptor {
  minArgs?: number;
  /** Omit for no upper bound (beyond the wire limit). */
  maxArgs?: number;
}

/**
 * A command is a pure, allowlisted function of its arguments: it never runs a
 * shell or a child process. Throw `CommandArgumentsError` for bad arguments.
 */
export interface CommandHandler {
  execute(args: readonly string[]): string | Promise<string>;
}
