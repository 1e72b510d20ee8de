import { applyDecorators } from '@nestjs/common';
import { IsBoolean } from 'class-validator';
import { ToBoolean } from './to-boolean.decorator';

/** A boolean environment variable, given as exactly `true` or `false`. */
export function BooleanSetting(): PropertyDecorator {
  return applyDecorators(IsBoolean(), ToBoolean());
}
