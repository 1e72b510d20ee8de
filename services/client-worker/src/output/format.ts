import { RpcClientError } from '@echo-pair/common';

/** Milliseconds with one decimal, e.g. `12.3`. */
export function formatMs(ms: number): string {
  return ms.toFixed(1);
}

/** `CODE: message` of any failure of a call. */
export function describeFailure(error: unknown): string {
  if (error instanceof RpcClientError) {
    return `${error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** `error CODE: message`, followed by indented lines for the envelope's details. */
export function formatCallError(error: unknown): string[] {
  const lines = [`error ${describeFailure(error)}`];
  const envelope = error instanceof RpcClientError ? error.envelope : undefined;
  switch (envelope?.code) {
    case 'VALIDATION_FAILED':
      lines.push(...envelope.details.violations.map(({ field, constraints }) => `  ${field}: ${Object.values(constraints).join('; ')}`));
      break;
    case 'UNKNOWN_COMMAND':
      lines.push(`  known commands: ${envelope.details.knownCommands.join(', ')}`);
      break;
    case 'INVALID_COMMAND_ARGS':
      lines.push(`  usage: ${envelope.details.usage}`);
      break;
    default:
      break;
  }
  return lines;
}
