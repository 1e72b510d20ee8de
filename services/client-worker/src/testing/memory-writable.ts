import { Writable } from 'node:stream';

/** A writable stream that keeps what is written, readable at once with `text()`. */
export class MemoryWritable extends Writable {
  private readonly chunks: string[] = [];

  constructor() {
    super({
      decodeStrings: false,
      write: (chunk: string | Buffer, _encoding, callback) => {
        this.chunks.push(chunk.toString());
        callback();
      },
    });
  }

  text(): string {
    return this.chunks.join('');
  }

  lines(): string[] {
    return this.text()
      .split('\n')
      .filter((line) => line !== '');
  }
}
