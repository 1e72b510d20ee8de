import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ShutdownModule } from '../shutdown/shutdown.module';
import { StatsModule } from '../stats/stats.module';
import { HealthController } from './health.controller';
import { EchoServerHealthIndicators } from './health.indicators';
import { Readiness } from './readiness.service';

/**
 * `/healthz` and `/readyz` with @nestjs/terminus. Its logger is off: a 503 from `/readyz`
 * is the expected answer during a drain, which the server logs itself, and an orchestrator
 * probing every few seconds would otherwise log an error each time.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ShutdownModule, StatsModule],
  controllers: [HealthController],
  providers: [Readiness, EchoServerHealthIndicators],
  exports: [Readiness],
})
export class HealthHttpModule {}
