import { IsString } from 'class-validator';
import type { EchoRequest } from '../contract/echo.types';
import { WireLimits } from '../contract/wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class EchoDto implements EchoRequest {
  @IsString()
  @MaxTextLength(WireLimits.echoTextMaxLength)
  text!: string;
}
