import type { Type } from '@nestjs/common';
import type { EventPattern, RequestPattern, ServerContract } from '@echo-pair/common';
import { CommandController } from './command/command.controller';
import { EchoController } from './echo/echo.controller';
import { HelloController } from './hello/hello.controller';
import { NoteController } from './note/note.controller';

/**
 * The controller of every pattern of the contract. The compiler checks it both ways: a pattern of
 * the contract without an entry, or an entry for a pattern the contract lacks, does not build; and
 * each controller must have the pattern's method (`Pick<ServerContract, P>`).
 */
export const PATTERN_HANDLERS: { [P in RequestPattern | EventPattern]: Type<Pick<ServerContract, P>> } = {
  hello: HelloController,
  echo: EchoController,
  command: CommandController,
  note: NoteController,
};

/** The controllers to register, each once. */
export const PATTERN_CONTROLLERS: Type<unknown>[] = [...new Set<Type<unknown>>(Object.values(PATTERN_HANDLERS))];
