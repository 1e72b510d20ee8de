import {
  EVENT_PATTERNS,
  measureText,
  REQUEST_PATTERNS,
  type CommandResponse,
  type EchoResponse,
  type HelloResponse,
  type RpcErrorEnvelope,
} from '@echo-pair/common';
import type { StepContext, Verdict } from './demo-step';
import { isServerStats } from './server-stats.guard';

const pass = (detail: string): Verdict => ({ ok: true, detail });
const fail = (detail: string): Verdict => ({ ok: false, detail });

/** Shows a text in the transcript: quoted when short, shortened otherwise. */
export function quote(text: string, maxLength = 60): string {
  return text.length <= maxLength ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, maxLength))}…`;
}

export function isWelcome(hello: HelloResponse): Verdict {
  const missing = [
    ...REQUEST_PATTERNS.filter((pattern) => !hello.patterns.requests.includes(pattern)),
    ...EVENT_PATTERNS.filter((pattern) => !hello.patterns.events.includes(pattern)),
  ];
  if (hello.welcome.trim() === '' || missing.length > 0 || hello.commands.length === 0) {
    return fail(
      `incomplete hello: welcome ${quote(hello.welcome)}, missing patterns [${missing.join(', ')}], ${hello.commands.length} commands`,
    );
  }
  return pass(
    `${hello.server} ${hello.version}, patterns ${hello.patterns.requests.join('/')} + ${hello.patterns.events.join('/')}, ${hello.commands.length} commands`,
  );
}

/** The echo returned `text` unchanged, with its sizes counted the way the contract says. */
export function echoes(text: string): (reply: EchoResponse) => Verdict {
  const expected = measureText(text);
  return (reply) => {
    if (reply.text !== text) {
      return fail(`text differs: sent ${quote(text)}, got ${quote(reply.text)}`);
    }
    const wrong = (Object.keys(expected) as (keyof typeof expected)[]).filter((key) => reply[key] !== expected[key]);
    if (wrong.length > 0) {
      return fail(`wrong sizes: ${wrong.map((key) => `${key} ${reply[key]} (expected ${expected[key]})`).join(', ')}`);
    }
    return pass(`byte-identical, ${expected.bytes} bytes, ${expected.codeUnits} code units, ${expected.codePoints} code points`);
  };
}

export function outputIs(expected: string): (reply: CommandResponse) => Verdict {
  return ({ output }) =>
    output === expected ? pass(`output ${quote(output)}`) : fail(`expected ${quote(expected)}, got ${quote(output)}`);
}

export function outputStartsWith(prefix: string): (reply: CommandResponse) => Verdict {
  return ({ output }) =>
    output.startsWith(prefix)
      ? pass(`output ${quote(output)} starts with ${quote(prefix)}`)
      : fail(`expected output starting with ${quote(prefix)}, got ${quote(output)}`);
}

export function isIsoTimestamp({ output }: CommandResponse): Verdict {
  const time = new Date(output);
  return !Number.isNaN(time.getTime()) && time.toISOString() === output
    ? pass(`output ${quote(output)} is an ISO-8601 time`)
    : fail(`expected an ISO-8601 time, got ${quote(output)}`);
}

/** `sleep <ms>` replied as promised, and no sooner than that. */
export function sleptFor(ms: number): (reply: CommandResponse, context: StepContext) => Verdict {
  const expected = `slept ${ms} ms`;
  return ({ output }, { latencyMs }) => {
    if (output !== expected) {
      return fail(`expected ${quote(expected)}, got ${quote(output)}`);
    }
    // Node's timers count whole milliseconds of a clock cached per event-loop turn, so a
    // timer may fire up to 1 ms early by the precise clock that measures the latency.
    return latencyMs >= ms - 1
      ? pass(`output ${quote(output)}, took ≥ ${ms} ms`)
      : fail(`replied after ${latencyMs.toFixed(1)} ms, before ${ms} ms had passed`);
  };
}

/** The help text names every command that the server listed in its hello. */
export function mentionsEveryCommand({ output }: CommandResponse, { hello }: StepContext): Verdict {
  const words = new Set(output.split(/\s+/));
  const names = hello.commands.map((command) => command.name);
  const missing = names.filter((name) => !words.has(name));
  return missing.length === 0 ? pass(`mentions all ${names.length} commands`) : fail(`does not mention ${missing.join(', ')}`);
}

/** The server counted at least the echoes and notes that the demo sent. */
export function countsEverythingSent({ output }: CommandResponse, { sent }: StepContext): Verdict {
  let stats: unknown;
  try {
    stats = JSON.parse(output);
  } catch {
    return fail(`output is not JSON: ${quote(output)}`);
  }
  if (!isServerStats(stats)) {
    return fail(`output is not ServerStats: ${quote(output)}`);
  }
  const { echo } = stats.messages;
  const { note } = stats.events;
  if (note < Math.max(1, sent.note) || echo < sent.echo) {
    return fail(`counts echo ${echo} and note ${note}, fewer than the demo sent (${sent.echo} and ${sent.note})`);
  }
  return pass(
    `ServerStats counts echo ${echo} (demo sent ${sent.echo}), note ${note} (demo sent ${sent.note}), errors ${stats.errors.total}`,
  );
}

export function namesField(field: string): (envelope: RpcErrorEnvelope<'VALIDATION_FAILED'>) => Verdict {
  return ({ details }) => {
    const violation = details.violations.find((candidate) => candidate.field === field);
    return violation
      ? pass(`names field "${field}" (${Object.values(violation.constraints).join('; ')})`)
      : fail(`no violation names field "${field}": ${JSON.stringify(details.violations)}`);
  };
}

/** The error lists every command that the server listed in its hello. */
export function listsKnownCommands({ details }: RpcErrorEnvelope<'UNKNOWN_COMMAND'>, { hello }: StepContext): Verdict {
  const missing = hello.commands.map((command) => command.name).filter((name) => !details.knownCommands.includes(name));
  return missing.length === 0
    ? pass(`lists the ${details.knownCommands.length} known commands`)
    : fail(`known commands ${JSON.stringify(details.knownCommands)} lack ${missing.join(', ')}`);
}
