// class-transformer's @Type records through Reflect metadata: importing the contract must not depend on the caller loading it first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsISO8601, IsObject, IsString, ValidateNested } from 'class-validator';
import { CommandDescriptorDto } from './command-descriptor.dto';
import { HelloPatternsDto } from './hello-patterns.dto';
import { ServerLimitsDto } from './server-limits.dto';

/**
 * The reply to `hello` (beside its request, `HelloDto`), as the server checks it with
 * VALIDATE_RESPONSES (docs/contract.md). `HelloResponse` lists the contract's patterns, so it is
 * declared in wire-contract.ts, which imports this file: the class takes the pattern names as type
 * parameters, and wire-contract.ts holds it to `HelloResponse` with them (`HelloResponseClass`).
 */
export class HelloResponseDto<Request extends string = string, Event extends string = string> {
  @IsString()
  welcome!: string;

  @IsString()
  server!: string;

  @IsString()
  version!: string;

  @IsString()
  instance!: string;

  @IsISO8601()
  serverTime!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => HelloPatternsDto)
  patterns!: HelloPatternsDto<Request, Event>;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CommandDescriptorDto)
  commands!: CommandDescriptorDto[];

  @IsObject()
  @ValidateNested()
  @Type(() => ServerLimitsDto)
  limits!: ServerLimitsDto;
}
