import { parseReplLine } from './repl-line-parser';

describe('parseReplLine', () => {
  it.each(['', '   ', '\t'])('ignores the blank line %j', (line) => {
    expect(parseReplLine(line)).toEqual({ kind: 'empty' });
  });

  it.each(['quit', 'exit', '/quit', '  quit  '])('ends the session on %j', (line) => {
    expect(parseReplLine(line)).toEqual({ kind: 'quit' });
  });

  it('echoes any other line exactly as typed', () => {
    expect(parseReplLine('hello')).toEqual({ kind: 'echo', text: 'hello' });
    expect(parseReplLine('  spaced  out ')).toEqual({ kind: 'echo', text: '  spaced  out ' });
    expect(parseReplLine('你好 "quoted" 👨‍👩‍👧')).toEqual({ kind: 'echo', text: '你好 "quoted" 👨‍👩‍👧' });
    expect(parseReplLine('quit now')).toEqual({ kind: 'echo', text: 'quit now' });
  });

  it('runs a command with its arguments split on whitespace', () => {
    expect(parseReplLine('/upper hi')).toEqual({ kind: 'command', name: 'upper', args: ['hi'] });
    expect(parseReplLine('/time')).toEqual({ kind: 'command', name: 'time', args: [] });
    expect(parseReplLine('  /lower  Hello \t WORLD  ')).toEqual({ kind: 'command', name: 'lower', args: ['Hello', 'WORLD'] });
  });

  it('groups words in double quotes, keeping their spacing', () => {
    expect(parseReplLine('/reverse "abc  你好" x')).toEqual({ kind: 'command', name: 'reverse', args: ['abc  你好', 'x'] });
    expect(parseReplLine('/upper a"b c"d')).toEqual({ kind: 'command', name: 'upper', args: ['ab cd'] });
  });

  it('keeps an empty quoted argument', () => {
    expect(parseReplLine('/upper "" x')).toEqual({ kind: 'command', name: 'upper', args: ['', 'x'] });
  });

  it('gives no shell meaning to other characters', () => {
    expect(parseReplLine("/rm -rf / ; echo 'x' $HOME \\ *")).toEqual({
      kind: 'command',
      name: 'rm',
      args: ['-rf', '/', ';', 'echo', "'x'", '$HOME', '\\', '*'],
    });
  });

  it('rejects an unterminated quote', () => {
    expect(parseReplLine('/upper "hi')).toEqual({ kind: 'invalid', reason: 'unterminated double quote' });
  });

  it.each(['/', '/  upper'])('rejects %j, which names no command', (line) => {
    expect(parseReplLine(line)).toMatchObject({ kind: 'invalid' });
  });
});
