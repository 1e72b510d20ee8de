import { WorkerOutput } from '../output/worker-output.service';
import { MemoryWritable } from './memory-writable';

/** A `WorkerOutput` that keeps its transcript and failures in memory. */
export class CapturedOutput extends WorkerOutput {
  constructor(
    readonly transcript = new MemoryWritable(),
    readonly failures = new MemoryWritable(),
  ) {
    super(transcript, failures);
  }

  get lines(): string[] {
    return this.transcript.lines();
  }
}
