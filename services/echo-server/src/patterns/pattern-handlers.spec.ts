import type { Type } from '@nestjs/common';
import type { ServerContract } from '@echo-pair/common';
import { CommandController } from './command/command.controller';
import { EchoController } from './echo/echo.controller';
import { HelloController } from './hello/hello.controller';
import { PATTERN_CONTROLLERS, PATTERN_HANDLERS } from './pattern-handlers';

/** Type checks, run by `npm run lint` (tsc over the specs): each `@ts-expect-error` must still be an error. */
export function compilerChecks(): unknown[] {
  // @ts-expect-error a pattern of the contract (note) without a controller does not build
  const missing: typeof PATTERN_HANDLERS = { hello: HelloController, echo: EchoController, command: CommandController };
  // @ts-expect-error a controller for a pattern the contract lacks does not build
  const extra: typeof PATTERN_HANDLERS = { ...PATTERN_HANDLERS, __not_in_contract__: EchoController };
  // @ts-expect-error a controller without the pattern's method (echo) does not build
  const wrong: Type<Pick<ServerContract, 'echo'>> = HelloController;
  return [missing, extra, wrong];
}

describe('PATTERN_HANDLERS', () => {
  it('registers every controller once', () => {
    expect(PATTERN_CONTROLLERS).toHaveLength(new Set(Object.values(PATTERN_HANDLERS)).size);
    expect(new Set(PATTERN_CONTROLLERS)).toEqual(new Set(Object.values(PATTERN_HANDLERS)));
  });
});
