import { IsString } from 'class-validator';
import type { EchoRequest } from '../echo.types';
import { WireLimits } from '../wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class EchoDto implements EchoRequest {
  @IsString()
  @MaxTextLength(WireLimits.echoTextMaxLength)
  text!: string;
}
