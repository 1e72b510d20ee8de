import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/**
 * Validates raw environment variables against a class-validator class, for
 * `ConfigModule.forRoot({ validate })`. Unknown variables are ignored; values are
 * converted with the decorators' types (`@Type(() => Number)` and friends).
 * Throws one error that lists every bad variable.
 */
export function validateEnvironment<T extends object>(schema: ClassConstructor<T>, raw: Record<string, unknown>): T {
  const config = plainToInstance(schema, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new Error(`Invalid configuration:\n${errors.map(describeViolation).join('\n')}`);
  }
  return config;
}

function describeViolation(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {}).join('; ');
  return `  - ${error.property}=${JSON.stringify(error.value)}: ${messages}`;
}
