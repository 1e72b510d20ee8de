import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { EchoDto, measureText, Patterns, type EchoResponse, type ServerContract } from '@echo-pair/common';

@Controller()
export class EchoController implements Pick<ServerContract, typeof Patterns.ECHO> {
  @MessagePattern(Patterns.ECHO)
  echo(@Payload() request: EchoDto): EchoResponse {
    const { bytes, codeUnits, codePoints } = measureText(request.text);
    return { text: request.text, receivedAt: new Date().toISOString(), bytes, codeUnits, codePoints };
  }
}
