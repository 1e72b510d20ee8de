import { applyDecorators } from '@nestjs/common';
import { IsInt, Max, Min } from 'class-validator';
import { ToInteger } from './to-integer.decorator';

/** An integer environment variable within `[min, max]`, given as a decimal string. */
export function IntegerSetting(min: number, max: number): PropertyDecorator {
  // The order in which stacked decorators would run (bottom up), so the constraints read as before.
  return applyDecorators(Max(max), Min(min), IsInt(), ToInteger());
}
