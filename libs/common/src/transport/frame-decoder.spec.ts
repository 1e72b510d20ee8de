import { FrameDecoder } from './frame-decoder';
import { FrameRejectedError } from './frame-rejected.error';

const MAX = 1_000;

function frame(json: string): Buffer {
  return Buffer.from(`${json.length}#${json}`);
}

function drain(decoder: FrameDecoder): string[] {
  const texts: string[] = [];
  for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
    texts.push(text);
  }
  return texts;
}

function rejection(feed: () => void): FrameRejectedError {
  try {
    feed();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameRejectedError);
    return error as FrameRejectedError;
  }
  throw new Error('expected a FrameRejectedError');
}

describe('FrameDecoder', () => {
  let decoder: FrameDecoder;

  beforeEach(() => {
    decoder = new FrameDecoder(MAX, 4 * MAX);
  });

  it('cuts several frames out of one read', () => {
    decoder.push(Buffer.concat([frame('{"a":1}'), frame('{"b":"x"}'), frame('[]')]));

    expect(drain(decoder)).toEqual(['{"a":1}', '{"b":"x"}', '[]']);
    expect(decoder.frameInProgress).toBe(false);
    expect(decoder.framesCompleted).toBe(3);
  });

  it('counts the length in UTF-16 code units, not bytes: "é" is 1 unit in 2 bytes, "😀" 2 units in 4', () => {
    const json = '{"t":"é😀€"}';
    expect(json.length).toBe(12);
    expect(Buffer.byteLength(json)).toBe(17);

    decoder.push(Buffer.concat([frame(json), frame('{}')]));

    expect(drain(decoder)).toEqual([json, '{}']);
  });

  it('waits for the continuation bytes of the last character when a read ends inside it', () => {
    const bytes = frame('"€"');
    decoder.push(bytes.subarray(0, bytes.length - 2));
    expect(decoder.next()).toBeUndefined();
    expect(decoder.frameInProgress).toBe(true);

    decoder.push(bytes.subarray(bytes.length - 2, bytes.length - 1));
    expect(decoder.next()).toBeUndefined();
    decoder.push(bytes.subarray(bytes.length - 1));

    expect(decoder.next()).toBe('"€"');
    expect(decoder.frameInProgress).toBe(false);
  });

  it('reports a frame in progress as soon as a header digit arrived', () => {
    decoder.push(Buffer.from('1'));
    expect(decoder.next()).toBeUndefined();
    expect(decoder.frameInProgress).toBe(true);

    decoder.push(Buffer.from('2#{"a":"bcde"}'));
    expect(decoder.next()).toBe('{"a":"bcde"}');
  });

  it('accepts the largest announced length and nothing above it', () => {
    const json = `"${'x'.repeat(MAX - 2)}"`;
    decoder.push(frame(json));
    expect(decoder.next()).toBe(json);

    const error = rejection(() => {
      decoder.push(Buffer.from('1001'));
      decoder.next();
    });
    expect(error.reason).toBe('FRAME_TOO_LONG');
  });

  it.each([
    { input: 'abc#{}', why: 'a letter' },
    { input: '#{}', why: 'no digits' },
    { input: '0#', why: 'a zero length' },
    { input: '012#', why: 'a leading zero' },
    { input: '1 #', why: 'a space' },
    { input: '-1#', why: 'a sign' },
  ])('rejects a header with $why as BAD_HEADER at the first wrong byte', ({ input }) => {
    decoder.push(Buffer.from(input));

    expect(rejection(() => decoder.next()).reason).toBe('BAD_HEADER');
  });

  it('rejects an oversized length while its digits arrive, before any "#"', () => {
    decoder.push(Buffer.from('99999'));

    const error = rejection(() => decoder.next());
    expect(error.reason).toBe('FRAME_TOO_LONG');
    expect(error.message).toBe('announced length reaches 9999, above the limit of 1000');
  });

  it.each([
    { bytes: [0x80], why: 'a stray continuation byte' },
    { bytes: [0xc0, 0x80], why: 'an overlong lead byte' },
    { bytes: [0xff], why: 'a byte that is never UTF-8' },
  ])('rejects $why as INVALID_UTF8 when it is scanned', ({ bytes }) => {
    decoder.push(Buffer.concat([Buffer.from('2#'), Buffer.from(bytes)]));

    expect(rejection(() => decoder.next()).reason).toBe('INVALID_UTF8');
  });

  it('rejects a complete body whose continuation bytes are wrong as INVALID_UTF8', () => {
    decoder.push(Buffer.from([0x33, 0x23, 0x22, 0xe2, 0x41, 0x41, 0x22]));

    expect(rejection(() => decoder.next()).reason).toBe('INVALID_UTF8');
  });

  it('rejects a length that ends inside a surrogate pair as SPLIT_CHARACTER', () => {
    decoder.push(Buffer.from('2#"😀"'));

    expect(rejection(() => decoder.next()).reason).toBe('SPLIT_CHARACTER');
  });

  it('rejects input beyond the buffered-bytes limit as BUFFER_LIMIT', () => {
    const small = new FrameDecoder(MAX, 10);
    small.push(Buffer.from('20#"abc'));
    expect(small.next()).toBeUndefined();

    expect(rejection(() => small.push(Buffer.from('defghij'))).reason).toBe('BUFFER_LIMIT');
  });

  it('keeps unread frames when the caller stops between frames, and reads them after the next push', () => {
    decoder.push(Buffer.concat([frame('1'), frame('2'), Buffer.from('1')]));
    expect(decoder.next()).toBe('1');

    decoder.push(Buffer.from('#3'));

    expect(drain(decoder)).toEqual(['2', '3']);
  });
});
