import { isDeepStrictEqual } from 'node:util';
import {
  EVENT_PATTERNS,
  eventExampleOf,
  REQUEST_PATTERNS,
  requestExampleOf,
  type EventPattern,
  type RequestPattern,
} from '@echo-pair/common';
import { quote } from './demo-checks';
import { expectReply, type DemoStep, type MessagePattern, type Verdict } from './demo-step';

/**
 * A step for every pattern of the contract that the hand-written script leaves out: the
 * contract's own example call. A pattern added to the contract is in the demo at once.
 */
export function contractExampleSteps(covered: ReadonlySet<MessagePattern>): DemoStep[] {
  return [
    ...REQUEST_PATTERNS.filter((pattern) => !covered.has(pattern)).map((pattern) => requestExample(pattern)),
    ...EVENT_PATTERNS.filter((pattern) => !covered.has(pattern)).map((pattern) => eventExample(pattern)),
  ];
}

function requestExample<P extends RequestPattern>(pattern: P): DemoStep {
  const example = requestExampleOf(pattern);
  return expectReply({
    label: `${pattern} ${JSON.stringify(example.request)} (the contract's example)`,
    pattern,
    call: (client) => client.send(pattern, example.request),
    check: (reply) => matches(example.response as Record<string, unknown>, reply as Record<string, unknown>),
  });
}

function eventExample<E extends EventPattern>(pattern: E): DemoStep {
  const example = eventExampleOf(pattern);
  return expectReply({
    label: `${pattern} ${JSON.stringify(example)} (the contract's example)`,
    pattern,
    call: (client) => client.emit(pattern, example),
    check: () => ({ ok: true, detail: 'sent (events get no reply)' }),
  });
}

/** The reply has every field the example expects, with the expected value. */
function matches(expected: Record<string, unknown>, reply: Record<string, unknown>): Verdict {
  const wrong = Object.keys(expected).filter((key) => !isDeepStrictEqual(reply[key], expected[key]));
  return wrong.length === 0
    ? { ok: true, detail: `as the contract's example expects (${Object.keys(expected).join(', ') || 'any reply'})` }
    : {
        ok: false,
        detail: wrong
          .map((key) => `${key} ${quote(JSON.stringify(reply[key]))}, expected ${quote(JSON.stringify(expected[key]))}`)
          .join('; '),
      };
}
