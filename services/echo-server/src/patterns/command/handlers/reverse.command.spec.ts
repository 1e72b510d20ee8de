import { ReverseCommand } from './reverse.command';

const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'; // 👨‍👩‍👧‍👦, one grapheme of 7 code points
const E_ACUTE = 'e\u0301'; // "é" as e + COMBINING ACUTE ACCENT

describe('ReverseCommand', () => {
  const command = new ReverseCommand();

  it.each([
    { label: 'ASCII', args: ['hello'], output: 'olleh' },
    { label: 'several args joined by one space', args: ['ab', 'cd', 'ef'], output: 'fe dc ba' },
    { label: 'CJK', args: ['abc', '你好'], output: '好你 cba' },
    { label: 'a ZWJ family emoji stays whole', args: [`a${FAMILY}b`], output: `b${FAMILY}a` },
    { label: 'a combining accent stays on its letter', args: [`caf${E_ACUTE}`], output: `${E_ACUTE}fac` },
    { label: 'flags (regional indicator pairs) stay whole', args: ['🇫🇷🇩🇪'], output: '🇩🇪🇫🇷' },
    { label: 'a single character', args: ['x'], output: 'x' },
  ])('$label', ({ args, output }) => {
    expect(command.execute(args)).toBe(output);
  });

  it('keeps the code points of the family emoji in order', () => {
    const reversed = command.execute([`${FAMILY}!`]);
    expect(Array.from(reversed)).toEqual(['!', ...Array.from(FAMILY)]);
  });
});
