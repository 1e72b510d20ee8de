import {
  ErrorCodes,
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  type EventPattern,
  type RequestPattern,
  type RpcErrorEnvelope,
} from '@echo-pair/common';

/** A `/call` or `/emit` line, read: the pattern of the contract it names and its payload, or what is wrong with it. */
export type ContractCall =
  | { ok: true; kind: 'request'; pattern: RequestPattern; payload: unknown }
  | { ok: true; kind: 'event'; pattern: EventPattern; payload: unknown }
  | { ok: false; error: RpcErrorEnvelope };

/** The usage of each verb, as the errors quote it. */
const CALL_USAGE = { call: 'call <pattern> [json]', emit: 'emit <pattern> [json]' } as const;

/** `/call` or `/emit`, then (after whitespace) the pattern, then (after whitespace) the payload as JSON, all of the rest. */
const CALL_LINE = /^\/(call|emit)(?:\s+(\S+)(?:\s+([\s\S]*))?)?$/;

/**
 * Reads a `/call <pattern> [json]` or `/emit <pattern> [json]` line; `undefined` for any other
 * line, which keeps the usual syntax (`parseTextLine`). The pattern must be one of the contract's
 * (`REQUEST_PATTERNS` for `/call`, `EVENT_PATTERNS` for `/emit`): the doors know no other list.
 * The payload is the rest of the line as JSON, `{}` when absent; it is not validated here, the
 * pattern's handler validates it as for every transport.
 */
export function parseContractCall(line: string): ContractCall | undefined {
  const match = CALL_LINE.exec(line.trim());
  if (match === null) {
    return undefined;
  }
  const verb = match[1] as keyof typeof CALL_USAGE;
  const name = match[2];
  if (name === undefined) {
    return failed(ErrorCodes.INVALID_COMMAND_ARGS, `${verb}: expects a pattern, e.g. /${verb} ${exampleName(verb)} {...}`, {
      command: verb,
      usage: CALL_USAGE[verb],
    });
  }
  const wrongKind = verb === 'call' ? isEventPattern(name) : isRequestPattern(name);
  if (wrongKind) {
    const [kind, other] = verb === 'call' ? ['an event', 'emit'] : ['a request', 'call'];
    return failed(ErrorCodes.UNKNOWN_PATTERN, `"${name}" is ${kind} pattern: send it with /${other} ${name} <json>`, {
      pattern: name,
      knownPatterns: knownPatterns(verb),
    });
  }
  if (verb === 'call' ? !isRequestPattern(name) : !isEventPattern(name)) {
    return failed(ErrorCodes.UNKNOWN_PATTERN, unknownPatternMessage(verb, name), { pattern: name, knownPatterns: knownPatterns(verb) });
  }
  const payload = parsePayload(match[3]);
  if (!payload.ok) {
    return payload;
  }
  return isRequestPattern(name)
    ? { ok: true, kind: 'request', pattern: name, payload: payload.value }
    : { ok: true, kind: 'event', pattern: name as EventPattern, payload: payload.value };
}

function parsePayload(text: string | undefined): { ok: true; value: unknown } | { ok: false; error: RpcErrorEnvelope } {
  if (text === undefined || text.trim() === '') {
    return { ok: true, value: {} };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = `the payload must be JSON (${error instanceof Error ? error.message : String(error)})`;
    return failed(ErrorCodes.VALIDATION_FAILED, `invalid request: ${reason}`, {
      violations: [{ field: '(payload)', constraints: { isJson: reason } }],
    });
  }
}

function unknownPatternMessage(verb: keyof typeof CALL_USAGE, name: string): string {
  const shown = name.length > 40 ? `${name.slice(0, 40)}...` : name;
  return `no ${verb === 'call' ? 'request' : 'event'} pattern "${shown}"; known: ${knownPatterns(verb).join(', ')}`;
}

function knownPatterns(verb: keyof typeof CALL_USAGE): string[] {
  return [...(verb === 'call' ? REQUEST_PATTERNS : EVENT_PATTERNS)];
}

function exampleName(verb: keyof typeof CALL_USAGE): string {
  return knownPatterns(verb)[0] ?? 'pattern';
}

function isRequestPattern(name: string): name is RequestPattern {
  return (REQUEST_PATTERNS as readonly string[]).includes(name);
}

function isEventPattern(name: string): name is EventPattern {
  return (EVENT_PATTERNS as readonly string[]).includes(name);
}

function failed<E extends RpcErrorEnvelope>(
  code: E['code'],
  message: string,
  details: E['details'],
): { ok: false; error: RpcErrorEnvelope } {
  return { ok: false, error: { code, message, details } as RpcErrorEnvelope };
}
