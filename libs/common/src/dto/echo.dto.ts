import { IsString, MaxLength } from 'class-validator';
import type { EchoRequest } from '../contract/echo.types';
import { WireLimits } from '../contract/wire-limits';

export class EchoDto implements EchoRequest {
  @IsString()
  @MaxLength(WireLimits.echoTextMaxLength)
  text!: string;
}
