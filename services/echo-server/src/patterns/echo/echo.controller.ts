import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { HandlePattern } from '../handle-pattern.decorator';
import { EchoDto, measureText, Patterns, type EchoResponse, type ServerContract } from '@echo-pair/common';
import { IsoClock } from './iso-clock';

@Controller()
export class EchoController implements Pick<ServerContract, typeof Patterns.ECHO> {
  /** `receivedAt`: the ISO text of the current millisecond, formatted once per millisecond. */
  private readonly clock = new IsoClock();

  @HandlePattern(Patterns.ECHO)
  echo(@Payload() request: EchoDto): EchoResponse {
    const { bytes, codeUnits, codePoints } = measureText(request.text);
    return { text: request.text, receivedAt: this.clock.now(), bytes, codeUnits, codePoints };
  }
}
