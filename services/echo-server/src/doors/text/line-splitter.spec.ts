import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { LineSplitter, type SplitEvent } from './line-splitter';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const line = (text: string): SplitEvent => ({ kind: 'line', bytes: bytes(text) });

/** Events with lines as length and digest, so that a failure with long lines prints a short diff. */
function summary(events: SplitEvent[]): string[] {
  return events.map((event) =>
    event.kind === 'line'
      ? `line ${event.bytes.length} ${createHash('sha256').update(event.bytes).digest('hex')}`
      : `too-long ${event.bytes}`,
  );
}

function pushAll(splitter: LineSplitter, chunks: Buffer[]): SplitEvent[] {
  return chunks.flatMap((chunk) => splitter.push(chunk));
}

/** The input cut at the given positions (taken modulo its length, so that any cut is possible). */
function cut(input: Buffer, positions: number[]): Buffer[] {
  const points = [...new Set(positions.map((p) => p % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, input.length]) {
    chunks.push(input.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** What a splitter must report for a whole stream, except that a too-long event's count depends on the reads. */
function expectedEvents(input: Buffer, maxLineBytes: number): Array<{ kind: 'line'; bytes: Buffer } | { kind: 'too-long'; upTo: number }> {
  const events: Array<{ kind: 'line'; bytes: Buffer } | { kind: 'too-long'; upTo: number }> = [];
  let start = 0;
  for (let newline = input.indexOf(0x0a); newline !== -1; newline = input.indexOf(0x0a, start)) {
    const raw = input.subarray(start, newline);
    const content = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
    events.push(content.length > maxLineBytes ? { kind: 'too-long', upTo: raw.length } : { kind: 'line', bytes: Buffer.from(content) });
    start = newline + 1;
  }
  const tail = input.subarray(start);
  const tailContent = tail.length > 0 && tail[tail.length - 1] === 0x0d ? tail.length - 1 : tail.length;
  if (tailContent > maxLineBytes) {
    events.push({ kind: 'too-long', upTo: tail.length });
  }
  return events;
}

describe('LineSplitter', () => {
  it('rejects a bound that is not a positive integer', () => {
    for (const maxLineBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new LineSplitter({ maxLineBytes })).toThrow(RangeError);
    }
  });

  it('reports each line of a chunk, without its \\n and one \\r before it', () => {
    const splitter = new LineSplitter({ maxLineBytes: 100 });

    expect(splitter.push(bytes('hello\nworld\r\na\rb\n\r\r\nrest'))).toEqual([line('hello'), line('world'), line('a\rb'), line('\r')]);
    expect(splitter.pendingBytes).toBe(4);
  });

  it('reports empty lines as lines of 0 bytes', () => {
    const splitter = new LineSplitter({ maxLineBytes: 10 });

    expect(splitter.push(bytes('\n\r\n\n'))).toEqual([line(''), line(''), line('')]);
  });

  it('joins a line that arrives in many reads into one event, \\r\\n split included', () => {
    const splitter = new LineSplitter({ maxLineBytes: 100 });

    expect(pushAll(splitter, ['你', '好', ' wor', 'ld\r'].map(bytes))).toEqual([]);
    expect(splitter.pendingBytes).toBe(bytes('你好 world\r').length);
    expect(splitter.push(bytes('\nnext'))).toEqual([line('你好 world')]);
    expect(splitter.pendingBytes).toBe(4);
  });

  it('returns lines that do not share memory with the chunks they came from', () => {
    const splitter = new LineSplitter({ maxLineBytes: 100 });
    const first = bytes('ab');
    const second = bytes('cd\nef\n');
    splitter.push(first);
    const events = splitter.push(second);
    first.fill(0x78);
    second.fill(0x78);

    expect(events).toEqual([line('abcd'), line('ef')]);
  });

  it('accepts a line of exactly maxLineBytes, its \\r not counted even when the \\n comes later', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });

    expect(splitter.push(bytes('abcd\nabcd\r\nabcd\r'))).toEqual([line('abcd'), line('abcd')]);
    expect(splitter.discarding).toBe(false);
    expect(splitter.push(bytes('\n'))).toEqual([line('abcd')]);
  });

  it('reports a line that passes the bound once, as soon as it does, then drops the rest of it', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });

    expect(splitter.push(bytes('abc'))).toEqual([]);
    expect(splitter.push(bytes('defg'))).toEqual([{ kind: 'too-long', bytes: 7 }]);
    expect(splitter.discarding).toBe(true);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.push(bytes('more and more'))).toEqual([]);
    expect(splitter.push(bytes('end\r\nok\n'))).toEqual([line('ok')]);
    expect(splitter.discarding).toBe(false);
  });

  it('reports a held \\r as too long once the next byte shows it was part of the line', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });

    expect(splitter.push(bytes('abcd\r'))).toEqual([]);
    expect(splitter.push(bytes('x'))).toEqual([{ kind: 'too-long', bytes: 6 }]);
    expect(splitter.push(bytes('\nok\n'))).toEqual([line('ok')]);
  });

  it('reports a too-long line that ends in the same chunk without discarding what follows', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });

    expect(splitter.push(bytes('abcdefg\nok\nabcdefghij'))).toEqual([
      { kind: 'too-long', bytes: 7 },
      line('ok'),
      { kind: 'too-long', bytes: 10 },
    ]);
    expect(splitter.discarding).toBe(true);
  });

  it('does not keep a huge chunk without a newline', () => {
    const splitter = new LineSplitter({ maxLineBytes: 1024 });

    expect(splitter.push(Buffer.alloc(1024 * 1024, 0x61))).toEqual([{ kind: 'too-long', bytes: 1024 * 1024 }]);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('keeps every byte of a long line while its buffer grows, and after it', () => {
    const long = Buffer.from(Array.from({ length: 100_000 }, (_, index) => (index % 251) + 0x0b));
    const input = Buffer.concat([long, bytes('\nshort\n'), long, bytes('\n')]);
    const splitter = new LineSplitter({ maxLineBytes: long.length });
    const events: SplitEvent[] = [];
    for (let start = 0; start < input.length; start += 7) {
      events.push(...splitter.push(input.subarray(start, start + 7)));
    }

    expect(summary(events)).toEqual(summary([{ kind: 'line', bytes: long }, line('short'), { kind: 'line', bytes: long }]));
  });

  it('takes 1 MiB one byte at a time: lines, a line of almost 1 MiB, and an over-long line', () => {
    const big = 1024 * 1024;
    const input = Buffer.concat([
      bytes('one\r\ntwo\n'),
      Buffer.alloc(big - 100, 0x62),
      bytes('\n'),
      Buffer.alloc(big + 1, 0x63),
      bytes('\nlast\n'),
    ]);
    const splitter = new LineSplitter({ maxLineBytes: big });
    const events: SplitEvent[] = [];
    for (let index = 0; index < input.length; index++) {
      events.push(...splitter.push(input.subarray(index, index + 1)));
    }

    expect(summary(events)).toEqual(
      summary([
        line('one'),
        line('two'),
        { kind: 'line', bytes: Buffer.alloc(big - 100, 0x62) },
        { kind: 'too-long', bytes: big + 1 },
        line('last'),
      ]),
    );
  });

  it('reports the lines of any stream, cut anywhere, and holds at most maxLineBytes + 1 bytes', () => {
    const streamByte = fc.constantFrom(0x0a, 0x0d, 0x61, 0xe4, 0xbd, 0xa0, 0xc4, 0x00);
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 200 })
          .chain((noise) =>
            fc.tuple(
              fc.constant(noise),
              fc.array(streamByte, { maxLength: 200 }),
              fc.integer({ min: 1, max: 12 }),
              fc.array(fc.nat(), { maxLength: 20 }),
            ),
          ),
        ([noise, structured, maxLineBytes, cuts]) => {
          const input = Buffer.concat([Buffer.from(structured), Buffer.from(noise)]);
          const splitter = new LineSplitter({ maxLineBytes });
          const events: SplitEvent[] = [];
          for (const chunk of cut(input, cuts)) {
            events.push(...splitter.push(chunk));
            expect(splitter.pendingBytes).toBeLessThanOrEqual(maxLineBytes + 1);
          }

          const expected = expectedEvents(input, maxLineBytes);
          expect(events.map((event) => event.kind)).toEqual(expected.map((event) => event.kind));
          events.forEach((event, index) => {
            const wanted = expected[index];
            if (event.kind === 'line' && wanted.kind === 'line') {
              expect(event.bytes).toEqual(wanted.bytes);
            } else if (event.kind === 'too-long' && wanted.kind === 'too-long') {
              expect(event.bytes).toBeGreaterThan(maxLineBytes);
              expect(event.bytes).toBeLessThanOrEqual(wanted.upTo);
            }
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  describe('flushPartial', () => {
    it('returns a partial line when the peer pauses, and then holds nothing', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      splitter.push(bytes('你好'));

      expect(splitter.flushPartial(() => 0)).toEqual(bytes('你好'));
      expect(splitter.pendingBytes).toBe(0);
      expect(splitter.flushPartial(() => 0)).toBeUndefined();
      expect(splitter.push(bytes('again\n'))).toEqual([line('again')]);
    });

    it('keeps the trailing bytes that `hold` names, which then start the next line', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      const text = bytes('ab你');
      splitter.push(text.subarray(0, 4));
      const seen: Buffer[] = [];

      expect(
        splitter.flushPartial((held) => {
          seen.push(Buffer.from(held));
          return 2;
        }),
      ).toEqual(bytes('ab'));
      expect(seen).toEqual([text.subarray(0, 4)]);
      expect(splitter.pendingBytes).toBe(2);
      expect(splitter.push(Buffer.concat([text.subarray(4), bytes('!\n')]))).toEqual([line('你!')]);
    });

    it('returns undefined and keeps everything when all of it is an incomplete character', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      splitter.push(Buffer.from([0xe4, 0xbd]));

      expect(splitter.flushPartial(() => 2)).toBeUndefined();
      expect(splitter.pendingBytes).toBe(2);
      expect(splitter.push(Buffer.from([0xa0, 0x0a]))).toEqual([line('你')]);
    });

    it('bounds what `hold` asks to what is held', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      splitter.push(bytes('abc'));

      expect(splitter.flushPartial(() => -5)).toEqual(bytes('abc'));
      splitter.push(bytes('def'));
      expect(splitter.flushPartial(() => 10)).toBeUndefined();
      expect(splitter.pendingBytes).toBe(3);
    });

    it('drops a \\r at the end of what it flushes', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      splitter.push(bytes('hi\r'));

      expect(splitter.flushPartial(() => 0)).toEqual(bytes('hi'));
      splitter.push(bytes('\r'));
      expect(splitter.flushPartial(() => 0)).toEqual(Buffer.alloc(0));
      expect(splitter.push(bytes('\n'))).toEqual([line('')]);
    });

    it('returns a copy that later reads do not change', () => {
      const splitter = new LineSplitter({ maxLineBytes: 100 });
      splitter.push(bytes('abcd'));
      const flushed = splitter.flushPartial(() => 1);
      splitter.push(bytes('xyz'));

      expect(flushed).toEqual(bytes('abc'));
      expect(splitter.flushPartial(() => 0)).toEqual(bytes('dxyz'));
    });

    it('returns nothing while an over-long line is being discarded', () => {
      const splitter = new LineSplitter({ maxLineBytes: 2 });
      splitter.push(bytes('abcdef'));

      expect(splitter.flushPartial(() => 0)).toBeUndefined();
      expect(splitter.discarding).toBe(true);
    });
  });

  it('reset drops a partial line and ends discarding', () => {
    const splitter = new LineSplitter({ maxLineBytes: 3 });
    splitter.push(bytes('ab'));
    splitter.reset();

    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.push(bytes('cd\n'))).toEqual([line('cd')]);

    splitter.push(bytes('abcdef'));
    expect(splitter.discarding).toBe(true);
    splitter.reset();
    expect(splitter.discarding).toBe(false);
    expect(splitter.push(bytes('tail\nok\n'))).toEqual([{ kind: 'too-long', bytes: 4 }, line('ok')]);
  });
});

describe('LineSplitter.pushUpTo and endedLines', () => {
  it('splits a chunk only up to the events asked for and returns the rest as a view', () => {
    const splitter = new LineSplitter({ maxLineBytes: 64 });
    const chunk = Buffer.from('a\nbb\nccc\ndd');
    const first = splitter.pushUpTo(chunk, 2);
    expect(first.events.map((event) => (event.kind === 'line' ? event.bytes.toString() : event.kind))).toEqual(['a', 'bb']);
    expect(first.rest?.toString()).toBe('ccc\ndd');
    expect(first.rest?.buffer).toBe(chunk.buffer);
    const second = splitter.pushUpTo(first.rest!, 2);
    expect(second.events.map((event) => (event.kind === 'line' ? event.bytes.toString() : event.kind))).toEqual(['ccc']);
    expect(second.rest).toBeUndefined();
    expect(splitter.pendingBytes).toBe(2);
    expect(splitter.endedLines).toBe(3);
  });

  it('counts a line as ended when it completes, when an over-long one reaches its newline, and when it is flushed', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4 });
    splitter.push(Buffer.from('ok\n'));
    expect(splitter.endedLines).toBe(1);
    splitter.push(Buffer.from('far too long'));
    expect(splitter.endedLines).toBe(1); // reported too long, but still being discarded
    splitter.push(Buffer.from(' still\nab'));
    expect(splitter.endedLines).toBe(2);
    splitter.flushPartial(() => 0);
    expect(splitter.endedLines).toBe(3);
    splitter.push(Buffer.from('toolong\n'));
    expect(splitter.endedLines).toBe(4);
  });
});
