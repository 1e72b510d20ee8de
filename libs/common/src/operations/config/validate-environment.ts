import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { InvalidConfigurationError } from '../../contract/invalid-configuration.error';

export { InvalidConfigurationError };

/**
 * Validates raw environment variables against a class-validator class.
 * Values are converted by the class's class-transformer decorators (`@ToInteger()`, in `@IntegerSetting()`);
 * missing and blank ones (`PORT=`, as compose writes an unset `${PORT}`) take the
 * class's defaults; only the class's own properties are returned. Throws one error
 * listing every bad variable.
 */
export function validateEnvironment<T extends object>(schema: ClassConstructor<T>, raw: Record<string, unknown>): T {
  const declared = declaredProperties(schema);
  const relevant = Object.fromEntries(Object.entries(raw).filter(([key, value]) => declared.has(key) && !isBlank(value)));
  const config = plainToInstance(schema, relevant, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new InvalidConfigurationError(`Invalid configuration:\n${errors.map(describeViolation).join('\n')}`);
  }
  return config;
}

/** The configuration a process was given is unusable; its message lists every bad variable. */

function declaredProperties(schema: ClassConstructor<object>): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return new Set(metadata.map((entry) => entry.propertyName));
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function describeViolation(error: ValidationError): string {
  const constraints = Object.entries(error.constraints ?? {});
  // A value of the wrong kind ("abc" for a port) fails its range checks too; name only the kind.
  const kindChecks = constraints.filter(([name]) => name.startsWith('is'));
  const messages = (kindChecks.length > 0 ? kindChecks : constraints).map(([, message]) => message).join('; ');
  return `  - ${error.property}=${JSON.stringify(error.value)}: ${messages}`;
}
