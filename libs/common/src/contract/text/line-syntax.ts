/** What a line asks for: the syntax of the worker's REPL, the text gateway and UDP text datagrams. */
export type TextLine =
  | { kind: 'empty' }
  | { kind: 'quit' }
  | { kind: 'echo'; text: string }
  | { kind: 'command'; name: string; args: string[] }
  | { kind: 'invalid'; reason: string };

const QUIT_WORDS = new Set(['quit', 'exit', '/quit']);

/**
 * Reads one line: `quit`/`exit`/`/quit` end the session, `/name args...` runs a
 * command, anything else is echoed as typed. Command arguments are split on
 * whitespace and double quotes group words (`/upper "a  b" c` → `["a  b", "c"]`);
 * there is no escaping, globbing or any other shell semantics.
 */
export function parseTextLine(line: string): TextLine {
  const trimmed = line.trim();
  if (trimmed === '') {
    return { kind: 'empty' };
  }
  if (QUIT_WORDS.has(trimmed)) {
    return { kind: 'quit' };
  }
  if (!trimmed.startsWith('/')) {
    return { kind: 'echo', text: line };
  }
  const words = splitWords(trimmed.slice(1));
  if (typeof words === 'string') {
    return { kind: 'invalid', reason: words };
  }
  const [name, ...args] = words;
  if (name === undefined || trimmed[1] === ' ' || trimmed[1] === '\t') {
    return { kind: 'invalid', reason: 'a command name must follow "/", e.g. /upper hi' };
  }
  return { kind: 'command', name, args };
}

/** The words of `text`, or why it cannot be split. */
function splitWords(text: string): string[] | string {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
      word ??= '';
    } else if (!quoted && /\s/.test(char)) {
      if (word !== undefined) {
        words.push(word);
      }
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quoted) {
    return 'unterminated double quote';
  }
  if (word !== undefined) {
    words.push(word);
  }
  return words;
}
