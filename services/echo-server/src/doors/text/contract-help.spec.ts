import { EVENT_PATTERNS, eventExampleOf, REQUEST_PATTERNS, requestExampleOf } from '@echo-pair/common';
import { parseContractCall } from './contract-call';
import { asciiJson, contractExampleLines, contractHelp, contractWelcome } from './contract-help';

describe('contract help', () => {
  it("has one example line per pattern of the contract, the contract's own example, each a line /call or /emit reads back", () => {
    const lines = contractExampleLines();

    expect(lines).toHaveLength(REQUEST_PATTERNS.length + EVENT_PATTERNS.length);
    REQUEST_PATTERNS.forEach((pattern, index) => {
      expect(parseContractCall(lines[index])).toEqual({ ok: true, kind: 'request', pattern, payload: requestExampleOf(pattern).request });
    });
    EVENT_PATTERNS.forEach((pattern, index) => {
      expect(parseContractCall(lines[REQUEST_PATTERNS.length + index])).toEqual({
        ok: true,
        kind: 'event',
        pattern,
        payload: eventExampleOf(pattern),
      });
    });
  });

  it('/help: the two verbs, then the examples indented', () => {
    const lines = contractHelp().split('\n');

    expect(lines[0]).toMatch(/^call <pattern> \[json\] .*JSON/);
    expect(lines[1]).toMatch(/^emit <pattern> \[json\] .*OK/);
    expect(lines.slice(2)).toEqual(contractExampleLines().map((line) => `  ${line}`));
  });

  it('the welcome: one ASCII line with every example, which still reads back as the same payload', () => {
    const welcome = contractWelcome();

    expect(welcome).toMatch(/^[\x20-\x7e]+$/);
    const examples = welcome
      .replace(/^Patterns: /, '')
      .replace(/\.$/, '')
      .split(' | ');
    expect(examples.map((line) => parseContractCall(line))).toEqual(contractExampleLines().map((line) => parseContractCall(line)));
  });

  it('asciiJson escapes non-ASCII and control characters, emoji as their surrogate pair', () => {
    const value = { text: 'héllo 你好 😀\u007f' };

    expect(asciiJson(value)).toBe('{"text":"h\\u00e9llo \\u4f60\\u597d \\ud83d\\ude00\\u007f"}');
    expect(JSON.parse(asciiJson(value))).toEqual(value);
  });
});
