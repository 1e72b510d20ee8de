import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { EchoClient, parseTextLine, type TextLine } from '@echo-pair/common';
import { Inject, Injectable } from '@nestjs/common';
import { formatCallError, formatMs } from '../../output/format';
import { WorkerOutput } from '../../output/worker-output.service';
import type { WorkerModeRunner } from '../worker-mode-runner';
import { WORKER_INPUT } from '../worker.tokens';

/**
 * The tutorials' `input()` loop: each line is echoed, `/name args...` runs a command,
 * `quit` or the end of input ends the session. Lines are handled strictly in order,
 * one call at a time; a failed call is reported and the loop goes on.
 */
@Injectable()
export class ReplRunner implements WorkerModeRunner {
  constructor(
    private readonly client: EchoClient,
    private readonly output: WorkerOutput,
    @Inject(WORKER_INPUT) private readonly input: NodeJS.ReadableStream,
  ) {}

  async run(): Promise<number> {
    const interactive = (this.input as { isTTY?: boolean }).isTTY === true;
    const lines = createInterface({
      input: this.input,
      output: interactive ? this.output.stream : undefined,
      terminal: interactive,
      crlfDelay: Infinity,
    });
    // Ctrl+C at the prompt ends the session like `quit`, rather than only pausing the input.
    lines.on('SIGINT', () => lines.close());
    lines.setPrompt('> ');
    if (interactive) {
      this.output.print('type a line to echo it, /help for the commands, quit to leave');
      lines.prompt();
    }

    for await (const line of lines) {
      const input = parseTextLine(line);
      if (input.kind === 'quit') {
        break;
      }
      await this.handle(input);
      if (interactive) {
        lines.prompt();
      }
    }
    lines.close();
    this.output.print('bye');
    return 0;
  }

  private async handle(input: Exclude<TextLine, { kind: 'quit' }>): Promise<void> {
    const startedAt = performance.now();
    const elapsed = (): string => `${formatMs(performance.now() - startedAt)} ms`;
    try {
      switch (input.kind) {
        case 'empty':
          return;
        case 'invalid':
          this.output.print(`error: ${input.reason}`);
          return;
        case 'echo': {
          const reply = await this.client.echo({ text: input.text });
          const altered = reply.text === input.text ? '' : ', DIFFERS from what was sent';
          this.output.print(...formatReply(reply.text, `echo, ${reply.bytes} bytes, ${elapsed()}${altered}`));
          return;
        }
        case 'command': {
          const reply = await this.client.command({ name: input.name, args: input.args });
          this.output.print(...formatReply(reply.output, `${input.name}, ${elapsed()}`));
          return;
        }
      }
    } catch (error: unknown) {
      this.output.print(...formatCallError(error));
    }
  }
}

/** The server's text marked with `< `, then what it answered and how fast. */
function formatReply(text: string, about: string): string[] {
  const lines = text.split('\n');
  if (lines.length === 1) {
    return [`< ${text}  (${about})`];
  }
  return [...lines.map((line) => `< ${line}`), `  (${about})`];
}
