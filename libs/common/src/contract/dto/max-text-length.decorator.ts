import { buildMessage, MAX_LENGTH, maxLength, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * class-validator's `MaxLength`: the same constraint name, message and verdict, without its
 * cost on long texts. Its `maxLength` runs two regular expressions over the whole string
 * (surrogate pairs and variation selectors count as part of the character before them), so
 * its count is never above `length`: a string of at most `max` code units passes unscanned.
 */
export function MaxTextLength(max: number, validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: MAX_LENGTH,
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && (value.length <= max || maxLength(value, max)),
        defaultMessage: buildMessage(
          (eachPrefix) => `${eachPrefix}$property must be shorter than or equal to $constraint1 characters`,
          validationOptions,
        ),
      },
    },
    validationOptions,
  );
}
