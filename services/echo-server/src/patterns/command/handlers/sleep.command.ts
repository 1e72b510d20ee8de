import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setTimeout as delay } from 'node:timers/promises';
import type { EchoServerEnvironment } from '../../../config/echo-server-environment';
import { CommandArgumentsError } from '../command-arguments.error';
import { Command } from '../command.decorator';
import type { CommandHandler } from '../command-handler';

@Injectable()
@Command({
  name: 'sleep',
  usage: 'sleep <ms>',
  description: 'waits <ms> milliseconds (bounded by the server limit sleepMaxMs), then replies; for timeout demos',
  minArgs: 1,
  maxArgs: 1,
})
export class SleepCommand implements CommandHandler {
  private readonly maxMs: number;

  constructor(config: ConfigService<EchoServerEnvironment, true>) {
    this.maxMs = config.get('SLEEP_MAX_MS', { infer: true });
  }

  async execute([raw]: readonly string[]): Promise<string> {
    const ms = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(ms) || ms > this.maxMs) {
      throw new CommandArgumentsError(`<ms> must be a whole number from 0 to ${this.maxMs}, got "${raw}"`);
    }
    await delay(ms);
    return `slept ${ms} ms`;
  }
}
