import { parseTextLine } from './line-syntax';

describe('parseTextLine', () => {
  it.each(['', '   ', '\t'])('ignores the blank line %j', (line) => {
    expect(parseTextLine(line)).toEqual({ kind: 'empty' });
  });

  it.each(['quit', 'exit', '/quit', '  quit  '])('ends the session on %j', (line) => {
    expect(parseTextLine(line)).toEqual({ kind: 'quit' });
  });

  it('echoes any other line exactly as typed', () => {
    expect(parseTextLine('hello')).toEqual({ kind: 'echo', text: 'hello' });
    expect(parseTextLine('  spaced  out ')).toEqual({ kind: 'echo', text: '  spaced  out ' });
    expect(parseTextLine('你好 "quoted" 👨‍👩‍👧')).toEqual({ kind: 'echo', text: '你好 "quoted" 👨‍👩‍👧' });
    expect(parseTextLine('quit now')).toEqual({ kind: 'echo', text: 'quit now' });
  });

  it('runs a command with its arguments split on whitespace', () => {
    expect(parseTextLine('/upper hi')).toEqual({ kind: 'command', name: 'upper', args: ['hi'] });
    expect(parseTextLine('/time')).toEqual({ kind: 'command', name: 'time', args: [] });
    expect(parseTextLine('  /lower  Hello \t WORLD  ')).toEqual({ kind: 'command', name: 'lower', args: ['Hello', 'WORLD'] });
  });

  it('groups words in double quotes, keeping their spacing', () => {
    expect(parseTextLine('/reverse "abc  你好" x')).toEqual({ kind: 'command', name: 'reverse', args: ['abc  你好', 'x'] });
    expect(parseTextLine('/upper a"b c"d')).toEqual({ kind: 'command', name: 'upper', args: ['ab cd'] });
  });

  it('keeps an empty quoted argument', () => {
    expect(parseTextLine('/upper "" x')).toEqual({ kind: 'command', name: 'upper', args: ['', 'x'] });
  });

  it('gives no shell meaning to other characters', () => {
    expect(parseTextLine("/rm -rf / ; echo 'x' $HOME \\ *")).toEqual({
      kind: 'command',
      name: 'rm',
      args: ['-rf', '/', ';', 'echo', "'x'", '$HOME', '\\', '*'],
    });
  });

  it('rejects an unterminated quote', () => {
    expect(parseTextLine('/upper "hi')).toEqual({ kind: 'invalid', reason: 'unterminated double quote' });
  });

  it.each(['/', '/  upper'])('rejects %j, which names no command', (line) => {
    expect(parseTextLine(line)).toMatchObject({ kind: 'invalid' });
  });
});
