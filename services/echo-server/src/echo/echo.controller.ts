import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { EchoDto, Patterns, type EchoResponse, type ServerContract } from '@echo-pair/common';

@Controller()
export class EchoController implements Pick<ServerContract, typeof Patterns.ECHO> {
  @MessagePattern(Patterns.ECHO)
  echo(@Payload() request: EchoDto): EchoResponse {
    const { text } = request;
    return {
      text,
      receivedAt: new Date().toISOString(),
      bytes: Buffer.byteLength(text, 'utf8'),
      codeUnits: text.length,
      codePoints: countCodePoints(text),
    };
  }
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) {
    count += 1;
  }
  return count;
}
