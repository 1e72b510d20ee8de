import { IsOptional, IsString } from 'class-validator';
import type { HelloRequest } from '../contract/hello.types';
import { WireLimits } from '../contract/wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class HelloDto implements HelloRequest {
  @IsOptional()
  @IsString()
  @MaxTextLength(WireLimits.clientNameMaxLength)
  client?: string;
}
