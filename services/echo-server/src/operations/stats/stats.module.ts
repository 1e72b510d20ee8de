import { Global, Module } from '@nestjs/common';
import { COMMAND_OBSERVER } from '../../core/command-observer';
import { StatsCommand } from './stats.command';
import { StatsService } from './stats.service';
import { UptimeCommand } from './uptime.command';

/** The server's books, global: every door and operation counts into them. Adds the `stats` and `uptime` commands. */
@Global()
@Module({
  providers: [StatsService, StatsCommand, UptimeCommand, { provide: COMMAND_OBSERVER, useExisting: StatsService }],
  exports: [StatsService, COMMAND_OBSERVER],
})
export class StatsModule {}
