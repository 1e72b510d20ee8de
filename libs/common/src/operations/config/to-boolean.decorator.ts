import { Transform } from 'class-transformer';

/**
 * Converts exactly `"true"` and `"false"` to booleans and leaves anything else as
 * it is, so that `@IsBoolean()` rejects `"yes"` or `"1"` with the value the user wrote.
 */
export function ToBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
}
