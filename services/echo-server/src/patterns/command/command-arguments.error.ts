/** Thrown by a command handler whose arguments are wrong; the reply names the command's usage. */
export class CommandArgumentsError extends Error {
  override readonly name = 'CommandArgumentsError';
}
