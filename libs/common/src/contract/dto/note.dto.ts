import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import type { NoteEvent } from '../note.types';
import { WireLimits } from '../wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class NoteDto implements NoteEvent {
  @IsString()
  @IsNotEmpty()
  @MaxTextLength(WireLimits.noteTextMaxLength)
  text!: string;

  @IsOptional()
  @IsString()
  @MaxTextLength(WireLimits.clientNameMaxLength)
  author?: string;
}
