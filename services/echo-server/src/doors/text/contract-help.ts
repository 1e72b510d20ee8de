import { EVENT_PATTERNS, eventExampleOf, REQUEST_PATTERNS, requestExampleOf } from '@echo-pair/common';

/** One example line per pattern of the contract: `/call <pattern> <json>` or `/emit <pattern> <json>`. */
export function contractExampleLines(json: (value: unknown) => string = JSON.stringify): string[] {
  return [
    ...REQUEST_PATTERNS.map((pattern) => `/call ${pattern} ${json(requestExampleOf(pattern).request)}`),
    ...EVENT_PATTERNS.map((pattern) => `/emit ${pattern} ${json(eventExampleOf(pattern))}`),
  ];
}

/** What `/help` adds on the text doors about `/call` and `/emit`: the verbs, then every pattern of the contract with its example. */
export function contractHelp(): string {
  return [
    'call <pattern> [json] sends a request pattern of the contract; the reply is its response as one JSON line',
    'emit <pattern> [json] sends an event pattern of the contract; the reply is OK once its handlers ran',
    ...contractExampleLines().map((line) => `  ${line}`),
  ].join('\n');
}

/** The patterns and their examples for the welcome line: one line, ASCII only (non-ASCII text as JSON `\u` escapes). */
export function contractWelcome(): string {
  return `Patterns: ${contractExampleLines(asciiJson).join(' | ')}.`;
}

/** JSON with every character outside printable ASCII written as a `\u` escape: still the same JSON value. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
