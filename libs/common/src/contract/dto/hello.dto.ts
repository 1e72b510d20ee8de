import { IsOptional, IsString } from 'class-validator';
import type { HelloRequest } from '../hello.types';
import { WireLimits } from '../wire-limits';
import { MaxTextLength } from './max-text-length.decorator';

export class HelloDto implements HelloRequest {
  @IsOptional()
  @IsString()
  @MaxTextLength(WireLimits.clientNameMaxLength)
  client?: string;
}
