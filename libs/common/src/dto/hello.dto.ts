import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { HelloRequest } from '../contract/hello.types';
import { WireLimits } from '../contract/wire-limits';

export class HelloDto implements HelloRequest {
  @IsOptional()
  @IsString()
  @MaxLength(WireLimits.clientNameMaxLength)
  client?: string;
}
