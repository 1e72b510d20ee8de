import { IsInt, Min } from 'class-validator';
import type { ServerLimits } from '../hello.types';
import type { ResponseShape } from './response-shape';

/** The limits `hello` reports (`HelloResponseDto.limits`): every one a non-negative integer. */
export class ServerLimitsDto implements ServerLimits, ResponseShape<ServerLimits, ServerLimitsDto> {
  @IsInt()
  @Min(0)
  echoTextMaxLength!: number;

  @IsInt()
  @Min(0)
  clientNameMaxLength!: number;

  @IsInt()
  @Min(0)
  commandNameMaxLength!: number;

  @IsInt()
  @Min(0)
  commandArgsMaxCount!: number;

  @IsInt()
  @Min(0)
  commandArgMaxLength!: number;

  @IsInt()
  @Min(0)
  noteTextMaxLength!: number;

  @IsInt()
  @Min(0)
  payloadMaxKeys!: number;

  @IsInt()
  @Min(0)
  maxMessageLength!: number;

  @IsInt()
  @Min(0)
  incompleteMessageTimeoutMs!: number;

  @IsInt()
  @Min(0)
  sleepMaxMs!: number;
}
