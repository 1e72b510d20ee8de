/** A setting or option that is missing, malformed or inconsistent; thrown at start-up by every layer. */
export class InvalidConfigurationError extends Error {
  override readonly name = 'InvalidConfigurationError';
}
