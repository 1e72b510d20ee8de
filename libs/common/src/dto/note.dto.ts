import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { NoteEvent } from '../contract/note.types';
import { WireLimits } from '../contract/wire-limits';

export class NoteDto implements NoteEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(WireLimits.noteTextMaxLength)
  text!: string;

  @IsOptional()
  @IsString()
  @MaxLength(WireLimits.clientNameMaxLength)
  author?: string;
}
