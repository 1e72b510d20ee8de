import { EchoController } from './echo.controller';

describe('EchoController', () => {
  const controller = new EchoController();

  it.each([
    { label: 'ASCII', text: 'hello', bytes: 5, codeUnits: 5, codePoints: 5 },
    { label: 'empty', text: '', bytes: 0, codeUnits: 0, codePoints: 0 },
    { label: 'Latin-1', text: 'straße', bytes: 7, codeUnits: 6, codePoints: 6 },
    { label: 'CJK', text: '你好', bytes: 6, codeUnits: 2, codePoints: 2 },
    { label: 'CJK mixed with ASCII', text: 'abc 你好', bytes: 10, codeUnits: 6, codePoints: 6 },
    { label: 'an astral emoji', text: '😀', bytes: 4, codeUnits: 2, codePoints: 1 },
    { label: 'a ZWJ family emoji', text: '👨‍👩‍👧‍👦', bytes: 25, codeUnits: 11, codePoints: 7 },
    { label: 'a combining accent', text: 'e\u0301', bytes: 3, codeUnits: 2, codePoints: 2 },
    { label: 'control characters', text: 'a\n\t\u0000', bytes: 4, codeUnits: 4, codePoints: 4 },
  ])('measures $label text: $bytes bytes, $codeUnits code units, $codePoints code points', ({ text, bytes, codeUnits, codePoints }) => {
    const response = controller.echo({ text });

    expect(response).toEqual({ text, receivedAt: expect.any(String) as unknown, bytes, codeUnits, codePoints });
    expect(response.text).toBe(text);
  });

  it('stamps the time the request arrived, ISO-8601 in UTC', () => {
    const before = Date.now();
    const { receivedAt } = controller.echo({ text: 'x' });

    expect(receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(receivedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(receivedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('returns a large text unchanged', () => {
    const text = 'ab😀'.repeat(100_000);
    const response = controller.echo({ text });

    expect(response.text).toBe(text);
    expect(response).toMatchObject({ bytes: 600_000, codeUnits: 400_000, codePoints: 300_000 });
  });
});
