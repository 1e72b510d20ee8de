import fc from 'fast-check';
import { JsonSocket } from '@nestjs/microservices';
import { FakeNetSocket } from './fake-net-socket';
import { FrameDecoder } from './frame-decoder';
import { FramedJsonSocket } from './framed-json-socket';
import { resolveFramedJsonSocketOptions } from './framed-json-socket-options';
import type { SocketRejection } from '../contract/socket-rejection';

const MAX = 64 * 1024;

/** Text of every kind: any code point, ASCII, lone surrogates, JSON's special characters, multi-byte runs. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'binary-ascii', maxLength: 64 }),
  fc.string({ unit: fc.constantFrom('\uD800', '\uDFFF', 'é', '€', '😀', '你', '\u0000', '"', '\\', '#', '1'), maxLength: 64 }),
);

/** Objects, as peers of Nest's transport send them. */
const anyMessage = fc.record(
  { pattern: anyText, data: fc.oneof(fc.record({ text: anyText }), fc.jsonValue({ maxDepth: 3 })), id: anyText },
  { requiredKeys: ['pattern', 'data'] },
);

/** Stock framing, as `JsonSocket` writes it. */
function encode(json: string): Buffer {
  return Buffer.from(`${json.length}#${json}`, 'utf8');
}

/** The input cut at the given positions (taken modulo its length, so that any cut is possible). */
function cut(bytes: Buffer, positions: number[]): Buffer[] {
  const points = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

function framedSocket(onRejection: (rejection: SocketRejection) => void = () => undefined) {
  const raw = new FakeNetSocket();
  const socket = new FramedJsonSocket(
    raw.asSocket(),
    resolveFramedJsonSocketOptions({ maxFrameLength: MAX, incompleteFrameTimeoutMs: 0, onRejection }),
  );
  const messages: unknown[] = [];
  raw.on('message', (message: unknown) => messages.push(message));
  return { raw, socket, messages };
}

describe('framing properties', () => {
  it('decodes any sequence of valid frames, cut at any byte (inside headers and characters), to the same JSON texts', () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const texts = messages.map((message) => JSON.stringify(message));
        const decoder = new FrameDecoder(MAX, 4 * MAX);
        const decoded: string[] = [];
        for (const chunk of cut(Buffer.concat(texts.map(encode)), cuts)) {
          decoder.push(chunk);
          for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
            decoded.push(text);
          }
        }
        expect(decoded).toEqual(texts);
        expect(decoder.frameInProgress).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("emits the same messages as Nest's own JsonSocket for the same chunks", () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, cuts) => {
        const chunks = cut(Buffer.concat(messages.map((message) => encode(JSON.stringify(message)))), cuts);
        const ours = framedSocket();
        const stockRaw = new FakeNetSocket();
        new JsonSocket(stockRaw);
        const stock: unknown[] = [];
        stockRaw.on('message', (message: unknown) => stock.push(message));

        for (const chunk of chunks) {
          ours.raw.emit('data', chunk);
          stockRaw.emit('data', chunk);
        }

        expect(ours.messages).toEqual(stock);
        expect(ours.messages).toHaveLength(messages.length);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips arbitrary Unicode text through its own writer and reader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyText, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), async (texts, cuts) => {
        const sender = framedSocket();
        for (const [index, text] of texts.entries()) {
          sender.socket.sendMessage({ id: String(index), response: { text } });
        }
        await new Promise<void>((resolve) => process.nextTick(resolve));
        const receiver = framedSocket();

        for (const chunk of cut(sender.raw.output(), cuts)) {
          receiver.raw.emit('data', chunk);
        }

        // What JSON makes of each text: lone surrogates are written as escapes and come back as the same code unit.
        expect(receiver.messages).toEqual(texts.map((text, index) => ({ id: String(index), response: { text } })));
        expect(sender.raw.written).toHaveLength(1); // one write for the whole tick
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary bytes: it either emits objects or closes the connection once, with a reason', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc
        .array(
          fc.oneof(
            anyMessage.map((message) => encode(JSON.stringify(message))),
            fc.uint8Array({ maxLength: 16 }),
          ),
          { maxLength: 6 },
        )
        .map((parts) => Buffer.concat(parts)),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 8 }), (input, cuts) => {
        const rejections: SocketRejection[] = [];
        const { raw, messages } = framedSocket((rejection) => rejections.push(rejection));

        for (const chunk of cut(Buffer.from(input), cuts)) {
          expect(() => raw.emit('data', chunk)).not.toThrow();
        }

        for (const message of messages) {
          expect(typeof message === 'object' && message !== null && !Array.isArray(message)).toBe(true);
        }
        if (rejections.length > 0) {
          expect(rejections).toHaveLength(1);
          expect(rejections[0]).toMatchObject({ peer: '127.0.0.1:40000', reason: expect.any(String) as unknown });
          expect(raw.ended || raw.destroyed).toBe(true);
        } else {
          expect(raw.ended || raw.destroyed).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
