import { buildMixedScriptText, shortSha256 } from './mixed-script-text';

describe('buildMixedScriptText', () => {
  const MIB = 1024 * 1024;

  it('reaches the requested size in UTF-8 bytes without overshooting by a whole sample', () => {
    const text = buildMixedScriptText(MIB);
    const bytes = Buffer.byteLength(text, 'utf8');
    expect(bytes).toBeGreaterThanOrEqual(MIB);
    expect(bytes).toBeLessThan(MIB + 200);
  });

  it('mixes scripts and keeps whole code points', () => {
    const text = buildMixedScriptText(1);
    expect(text).toMatch(/[a-z]/);
    expect(text).toMatch(/\p{Script=Han}/u);
    expect(text).toMatch(/\p{Script=Arabic}/u);
    expect(text).toMatch(/\p{Script=Hebrew}/u);
    expect(text).toMatch(/\p{Script=Devanagari}/u);
    expect(text).toMatch(/\p{Emoji_Modifier}/u);
    expect(text).toMatch(/\u0301/);
    expect(text).toMatch(/\p{Extended_Pictographic}\u200d/u);
    expect(text).toMatch(/é/);
    expect(text.isWellFormed()).toBe(true);
  });

  it('is deterministic', () => {
    expect(shortSha256(buildMixedScriptText(MIB))).toBe(shortSha256(buildMixedScriptText(MIB)));
  });
});

describe('shortSha256', () => {
  it('hashes the UTF-8 bytes', () => {
    expect(shortSha256('abc')).toBe('ba7816bf8f01');
    expect(shortSha256('你好')).toBe('670d9743542c');
  });
});
