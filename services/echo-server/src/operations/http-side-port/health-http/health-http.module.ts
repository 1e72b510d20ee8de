import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DrainService } from '../../shutdown/drain.service';
import { ShutdownModule } from '../../shutdown/shutdown.module';
import { StatsModule } from '../../stats/stats.module';
import { SERVED_TRANSPORTS, type ServedTransport } from '../../../core/served-transport';
import { HealthController } from './health.controller';
import { EchoServerHealthIndicators } from './health.indicators';
import { Readiness } from './readiness.service';

/**
 * `/healthz` and `/readyz` with @nestjs/terminus. Its logger is off: a 503 from `/readyz`
 * is the expected answer during a drain, which the server logs itself, and an orchestrator
 * probing every few seconds would otherwise log an error each time. `Readiness` watches every
 * served transport.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ShutdownModule, StatsModule],
  controllers: [HealthController],
  providers: [
    {
      provide: Readiness,
      inject: [DrainService, SERVED_TRANSPORTS],
      useFactory: (drain: DrainService, transports: readonly ServedTransport[]): Readiness => {
        const readiness = new Readiness(drain);
        transports.forEach(({ name, listening }) => readiness.watch(name, listening));
        return readiness;
      },
    },
    EchoServerHealthIndicators,
  ],
  exports: [Readiness],
})
export class HealthHttpModule {}
