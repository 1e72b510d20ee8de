import { describeError, RpcClientError } from '@echo-pair/common';

/** Milliseconds with one decimal, e.g. `12.3`. */
export function formatMs(ms: number): string {
  return ms.toFixed(1);
}

/** `error CODE: message`, followed by indented lines for the envelope's details. */
export function formatCallError(error: unknown): string[] {
  const lines = [`error ${describeError(error)}`];
  const envelope = error instanceof RpcClientError ? error.envelope : undefined;
  switch (envelope?.code) {
    case 'VALIDATION_FAILED':
    case 'INVALID_RESPONSE':
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
