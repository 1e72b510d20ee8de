import { Injectable } from '@nestjs/common';
import { StatsService } from './stats.service';
import { Command } from '../../patterns/command/command.decorator';
import type { CommandHandler } from '../../patterns/command/command-handler';

@Injectable()
@Command({ name: 'uptime', usage: 'uptime', description: 'how long the server has been running', maxArgs: 0 })
export class UptimeCommand implements CommandHandler {
  constructor(private readonly stats: StatsService) {}

  execute(): string {
    return formatUptime(this.stats.uptimeSeconds());
  }
}

/** `up 1d 02:03:04 (93784.500 s)` */
export function formatUptime(seconds: number): string {
  const shown = seconds.toFixed(3);
  // Derive the clock from the rounded value so that both parts agree (59.9996 s is 00:01:00).
  const whole = Math.floor(Number(shown));
  const days = Math.floor(whole / 86_400);
  const clock = [Math.floor((whole % 86_400) / 3600), Math.floor((whole % 3600) / 60), whole % 60]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  return `up ${days}d ${clock} (${shown} s)`;
}
