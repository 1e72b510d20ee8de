import { Transform } from 'class-transformer';

/**
 * Converts a decimal integer string (`"3000"`, `" -5 "`) to a number and leaves
 * anything else as it is, so that `@IsInt()` rejects `"abc"`, `"0x10"` or `"1e3"`
 * with the value the user wrote (where `@Type(() => Number)` would accept
 * `"0x10"` as 16 and report `"abc"` as NaN).
 */
export function ToInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value,
  );
}
