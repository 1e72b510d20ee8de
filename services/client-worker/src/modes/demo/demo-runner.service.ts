import { performance } from 'node:perf_hooks';
import { EchoClient, EVENT_PATTERNS, REQUEST_PATTERNS, type HelloResponse } from '@echo-pair/common';
import { Injectable } from '@nestjs/common';
import { formatMs } from '../../output/format';
import { WorkerOutput } from '../../output/worker-output.service';
import type { WorkerModeRunner } from '../worker-mode-runner';
import { buildDemoScript } from './demo-script';
import type { MessagePattern } from './demo-step';

/** Runs the scripted demo session and prints it as a transcript. Exit code 0 iff every reply was as expected. */
@Injectable()
export class DemoRunner implements WorkerModeRunner {
  constructor(
    private readonly client: EchoClient,
    private readonly output: WorkerOutput,
  ) {}

  async run(hello: HelloResponse): Promise<number> {
    const script = buildDemoScript({ maxDatagramBytes: this.client.maxDatagramBytes });
    const sent = Object.fromEntries([...REQUEST_PATTERNS, ...EVENT_PATTERNS].map((pattern) => [pattern, 0])) as Record<
      MessagePattern,
      number
    >;
    const startedAt = performance.now();
    let failed = 0;

    this.output.print('', `demo: ${script.length} calls`);
    for (const step of script) {
      sent[step.pattern] += 1;
      const result = await step.perform(this.client, { hello, sent: { ...sent } });
      failed += result.ok ? 0 : 1;
      this.output.print(
        `${result.ok ? '✔' : '✘'} ${formatMs(result.latencyMs).padStart(7)} ms  ${step.label} — ${result.detail}`,
        ...result.notes.map((note) => `             ${note}`),
      );
    }

    const exercised = new Set(script.map((step) => step.command));
    const notExercised = hello.commands.map((command) => command.name).filter((name) => !exercised.has(name));
    this.output.print(
      '',
      `summary: ${script.length} calls, ${script.length - failed} passed, ${failed} failed, total ${formatMs(performance.now() - startedAt)} ms`,
      ...(notExercised.length > 0
        ? [`not exercised: ${notExercised.join(', ')} (listed by the server; the demo has no expectation for them)`]
        : []),
    );
    return failed === 0 ? 0 : 1;
  }
}
