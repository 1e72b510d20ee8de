import { IsInt, IsISO8601, IsString, Min } from 'class-validator';
import type { EchoResponse } from '../echo.types';
import type { ResponseShape } from './response-shape';

/** The reply to `echo` (beside its request, `EchoDto`), as the server checks it with VALIDATE_RESPONSES (docs/contract.md). */
export class EchoResponseDto implements EchoResponse, ResponseShape<EchoResponse, EchoResponseDto> {
  @IsString()
  text!: string;

  @IsISO8601()
  receivedAt!: string;

  @IsInt()
  @Min(0)
  bytes!: number;

  @IsInt()
  @Min(0)
  codeUnits!: number;

  @IsInt()
  @Min(0)
  codePoints!: number;
}
