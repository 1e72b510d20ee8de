import { IsArray, IsISO8601, IsNumber, IsString, Min } from 'class-validator';
import type { CommandResponse } from '../command.types';
import type { ResponseShape } from './response-shape';

/** The reply to `command` (beside its request, `CommandDto`), as the server checks it with VALIDATE_RESPONSES (docs/contract.md). */
export class CommandResponseDto implements CommandResponse, ResponseShape<CommandResponse, CommandResponseDto> {
  @IsString()
  name!: string;

  @IsArray()
  @IsString({ each: true })
  args!: string[];

  @IsString()
  output!: string;

  @IsISO8601()
  startedAt!: string;

  /** A finite number: JSON would send NaN or Infinity as `null`. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  durationMs!: number;
}
