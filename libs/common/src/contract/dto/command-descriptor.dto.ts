import { IsString } from 'class-validator';
import type { CommandDescriptor } from '../hello.types';
import type { ResponseShape } from './response-shape';

/** One command as `hello` lists it (`HelloResponseDto.commands`). */
export class CommandDescriptorDto implements CommandDescriptor, ResponseShape<CommandDescriptor, CommandDescriptorDto> {
  @IsString()
  name!: string;

  @IsString()
  usage!: string;

  @IsString()
  description!: string;
}
