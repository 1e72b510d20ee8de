import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches } from 'class-validator';
import type { CommandRequest } from '../command.types';
import { COMMAND_NAME_PATTERN, WireLimits } from '../wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class CommandDto implements CommandRequest {
  @IsString()
  @MaxTextLength(WireLimits.commandNameMaxLength)
  @Matches(COMMAND_NAME_PATTERN, { message: 'name must be a lower-case command name such as "upper"' })
  name!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(WireLimits.commandArgsMaxCount)
  @IsString({ each: true })
  @MaxTextLength(WireLimits.commandArgMaxLength, { each: true })
  args?: string[];
}
