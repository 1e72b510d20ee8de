import { ValidateBy, type ValidationArguments } from 'class-validator';

export interface RequiresAlsoOptions<T> {
  /** Only then are the others required; always when omitted. */
  when?: (config: T) => boolean;
  /** Why they are required, appended to the message (`when TLS_REQUIRE_CLIENT_CERT is true`). */
  because?: string;
}

/**
 * Cross-variable check of an environment class: when this variable is set, each of
 * `others` must be set too (TLS_CERT_FILE without TLS_KEY_FILE is a mistake, not a
 * half-enabled TLS). The violation is reported on the variable that is set, with its value.
 */
export function RequiresAlso<T extends object>(
  others: readonly (keyof T & string)[],
  options: RequiresAlsoOptions<T> = {},
): PropertyDecorator {
  return ValidateBy({
    name: `requiresAlso:${others.join('+')}`,
    constraints: [others],
    validator: {
      validate: (value: unknown, { object }: ValidationArguments) => {
        const config = object as T;
        if (value === undefined || value === null || (options.when !== undefined && !options.when(config))) {
          return true;
        }
        return others.every((other) => config[other] !== undefined && config[other] !== null);
      },
      defaultMessage: ({ property, object }: ValidationArguments) => {
        const missing = others.filter((other) => (object as T)[other] === undefined || (object as T)[other] === null);
        return `${property} needs ${missing.join(' and ')} as well${options.because === undefined ? '' : ` ${options.because}`}`;
      },
    },
  });
}
