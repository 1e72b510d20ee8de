import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import type { CommandResponse, EchoRequest, EchoResponse } from '@echo-pair/common';
import { HandleEvent, HandlePattern } from './handle-pattern.decorator';

class Handlers {
  @HandlePattern('echo')
  echo(request: EchoRequest): EchoResponse {
    return { text: request.text, receivedAt: '', bytes: 0, codeUnits: 0, codePoints: 0 };
  }

  @HandleEvent('note')
  note(): void {}
}

/** Type checks, run by `npm run lint` (tsc over the specs): each `@ts-expect-error` must still be an error. */
export class CompilerChecks {
  // @ts-expect-error a pattern the contract lacks
  @HandlePattern('sum')
  sum(): number {
    return 0;
  }

  // @ts-expect-error the response of another pattern
  @HandlePattern('echo')
  echo(): CommandResponse {
    return { name: '', args: [], output: '', startedAt: '', durationMs: 0 };
  }

  // @ts-expect-error a request that is not the pattern's
  @HandlePattern('echo')
  other(request: { numbers: number[] }): EchoResponse {
    return { text: String(request.numbers), receivedAt: '', bytes: 0, codeUnits: 0, codePoints: 0 };
  }
}

describe('HandlePattern and HandleEvent', () => {
  it("put Nest's own message and event handler metadata on the method", () => {
    const prototype = Handlers.prototype as unknown as Record<string, object>;

    expect(Reflect.getMetadata(PATTERN_METADATA, prototype.echo)).toEqual(['echo']);
    expect(Reflect.getMetadata(PATTERN_HANDLER_METADATA, prototype.echo)).toBe(1);
    expect(Reflect.getMetadata(PATTERN_METADATA, prototype.note)).toEqual(['note']);
    expect(Reflect.getMetadata(PATTERN_HANDLER_METADATA, prototype.note)).toBe(2);
  });
});
