import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import { EchoDto, HelloDto, type CommandResponse, type EchoRequest, type EchoResponse } from '@echo-pair/common';
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
  @HandlePattern('__not_in_contract__')
  notInContract(): number {
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

  describe('the payload parameter, which the validation pipe validates by its recorded class', () => {
    const echoed = (request: EchoRequest): EchoResponse => ({ text: request.text, receivedAt: '', bytes: 0, codeUnits: 0, codePoints: 0 });

    it('refuses a DTO imported with `import type` (recorded as Function), naming the fix', () => {
      expect(() => {
        class TypeOnlyImport {
          @HandlePattern('echo')
          @Reflect.metadata('design:paramtypes', [Function])
          echo(request: EchoDto): EchoResponse {
            return echoed(request);
          }
        }
        return TypeOnlyImport;
      }).toThrow(
        "@HandlePattern('echo') on TypeOnlyImport.echo: its payload would be validated against Function, not EchoDto; " +
          'import EchoDto as a value (`import { EchoDto }`, not `import type`): TypeScript records a type-only import as Function',
      );
    });

    it("refuses another class than the contract's DTO", () => {
      expect(() => {
        class OtherDto {
          @HandlePattern('echo')
          @Reflect.metadata('design:paramtypes', [HelloDto])
          echo(request: EchoDto): EchoResponse {
            return echoed(request);
          }
        }
        return OtherDto;
      }).toThrow("its payload would be validated against HelloDto, not EchoDto; type the parameter as the contract's EchoDto");
    });

    it("takes the contract's DTO, a subclass of it, an interface, or no parameter", () => {
      class Longer extends EchoDto {}
      expect(() => {
        class Accepted {
          @HandlePattern('echo')
          @Reflect.metadata('design:paramtypes', [EchoDto])
          dto(request: EchoDto): EchoResponse {
            return echoed(request);
          }

          @HandlePattern('echo')
          @Reflect.metadata('design:paramtypes', [Longer])
          subclass(request: Longer): EchoResponse {
            return echoed(request);
          }

          @HandlePattern('echo')
          @Reflect.metadata('design:paramtypes', [Object])
          structural(request: EchoRequest): EchoResponse {
            return echoed(request);
          }

          @HandleEvent('note')
          none(): void {}
        }
        return Accepted;
      }).not.toThrow();
    });
  });
});
