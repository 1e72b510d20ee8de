import { Module } from '@nestjs/common';
import { StatsModule } from '../stats/stats.module';
import { ConnectionTracker } from './connection-tracker.service';

@Module({ imports: [StatsModule], providers: [ConnectionTracker], exports: [ConnectionTracker] })
export class ConnectionsModule {}
