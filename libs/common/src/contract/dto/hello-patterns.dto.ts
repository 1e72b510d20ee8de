import { IsArray, IsString } from 'class-validator';

/**
 * The patterns `hello` lists (`HelloResponseDto.patterns`), typed by the contract's pattern names
 * where wire-contract.ts instantiates it (this file cannot import them, see `HelloResponseDto`).
 */
export class HelloPatternsDto<Request extends string = string, Event extends string = string> {
  @IsArray()
  @IsString({ each: true })
  requests!: Request[];

  @IsArray()
  @IsString({ each: true })
  events!: Event[];
}
