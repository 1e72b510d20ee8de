import type { EventPattern, RequestPattern } from './wire-contract';

export { REQUEST_PATTERNS, EVENT_PATTERNS, type EventPattern, type RequestPattern } from './wire-contract';

/** Names of the built-in request patterns, as constants; any pattern of `CONTRACT` may also be written as its string. */
export const Patterns = {
  HELLO: 'hello',
  ECHO: 'echo',
  COMMAND: 'command',
} as const satisfies Record<string, RequestPattern>;

/** Names of the built-in event patterns. */
export const Events = {
  NOTE: 'note',
} as const satisfies Record<string, EventPattern>;
