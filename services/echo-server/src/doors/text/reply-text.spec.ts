import { Patterns, type CommandRequest, type CommandResponse, type EchoResponse } from '@echo-pair/common';
import { contractHelp } from './contract-help';
import { replyTextOf, TEXT_GATEWAY_HELP, UDP_HELP } from './reply-text';

function commandResponse(name: string, args: string[], output: string): CommandResponse {
  return { name, args, output, startedAt: '2030-01-01T00:00:00.000Z', durationMs: 1 };
}

const EXTRA = 'nick <name>        choose your chat nick\nquit               close the connection';
const HELP_OUTPUT = 'echo <text>\nhelp [command]';

describe('replyTextOf', () => {
  describe('echo', () => {
    const response: EchoResponse = { text: 'hello 你好', receivedAt: '2030-01-01T00:00:00.000Z', bytes: 12, codeUnits: 8, codePoints: 8 };

    it("is the echo's text", () => {
      expect(replyTextOf(Patterns.ECHO, { text: 'hello 你好' }, response)).toBe('hello 你好');
    });

    it('is the text alone even with extra help, and even when the text is "help"', () => {
      const help: EchoResponse = { ...response, text: 'help' };

      expect(replyTextOf(Patterns.ECHO, { text: 'help' }, help, EXTRA)).toBe('help');
    });

    it('keeps an empty text', () => {
      expect(replyTextOf(Patterns.ECHO, { text: '' }, { ...response, text: '' }, EXTRA)).toBe('');
    });
  });

  describe('command', () => {
    it("is the command's output", () => {
      const request: CommandRequest = { name: 'upper', args: ['abc'] };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('upper', ['abc'], 'ABC'))).toBe('ABC');
    });

    it('does not add the extra help to other commands', () => {
      const request: CommandRequest = { name: 'time' };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('time', [], '12:00'), EXTRA)).toBe('12:00');
    });

    it('keeps a multi-line output as it is', () => {
      const request: CommandRequest = { name: 'stats', args: [] };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('stats', [], 'a: 1\nb: 2'), EXTRA)).toBe('a: 1\nb: 2');
    });
  });

  describe('help', () => {
    it('adds the extra help after the output when help has no arguments', () => {
      const request: CommandRequest = { name: 'help' };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('help', [], HELP_OUTPUT), EXTRA)).toBe(`${HELP_OUTPUT}\n${EXTRA}`);
    });

    it('adds it for an empty argument list too', () => {
      const request: CommandRequest = { name: 'help', args: [] };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('help', [], HELP_OUTPUT), EXTRA)).toBe(`${HELP_OUTPUT}\n${EXTRA}`);
    });

    it('does not add it to the help of one command', () => {
      const request: CommandRequest = { name: 'help', args: ['echo'] };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('help', ['echo'], 'echo <text>: echoes'), EXTRA)).toBe(
        'echo <text>: echoes',
      );
    });

    it('is the output alone without extra help (UDP)', () => {
      const request: CommandRequest = { name: 'help' };

      expect(replyTextOf(Patterns.COMMAND, request, commandResponse('help', [], HELP_OUTPUT))).toBe(HELP_OUTPUT);
    });

    it('decides from the request, not from the response', () => {
      // What was asked for is what counts: a response naming help does not make `time` help.
      expect(replyTextOf(Patterns.COMMAND, { name: 'time' }, commandResponse('help', [], '12:00'), EXTRA)).toBe('12:00');
      expect(replyTextOf(Patterns.COMMAND, { name: 'help' }, commandResponse('help', ['x'], HELP_OUTPUT), EXTRA)).toBe(
        `${HELP_OUTPUT}\n${EXTRA}`,
      );
    });
  });

  describe('TEXT_GATEWAY_HELP', () => {
    it("lists the gateway's own commands, one a line, then /call and /emit with the contract's patterns", () => {
      const lines = TEXT_GATEWAY_HELP.split('\n');
      const own = lines.slice(0, 6);

      expect(own.map((line) => line.split(' ')[0])).toEqual(['nick', 'join', 'leave', 'who', 'encoding', 'quit']);
      expect(own.every((line) => line.trim() === line && line.length > 0)).toBe(true);
      expect(lines.slice(6).join('\n')).toBe(contractHelp());
    });
  });

  describe('UDP_HELP', () => {
    it("is /call and /emit with the contract's patterns (UDP has no chat)", () => {
      expect(UDP_HELP).toBe(contractHelp());
    });
  });
});
