import { Module } from '@nestjs/common';
import { createMetricsRegistry } from '@echo-pair/common';
import { Registry } from 'prom-client';
import { ShutdownModule } from '../../shutdown/shutdown.module';
import { StatsModule } from '../../stats/stats.module';
import { MetricsController } from './metrics.controller';
import { RequestMetrics } from './request-metrics';
import { ServerMetrics } from './server-metrics';

/**
 * Prometheus metrics of one server: its own registry, the request counter and latency
 * histogram fed by the processing hooks, the figures of `stats` and of the drain read at
 * scrape time, and `GET /metrics`. `RequestMetrics` registers with the drain's processing
 * hooks; the exception filter reports failed requests' codes to it (through the drain).
 */
@Module({
  imports: [StatsModule, ShutdownModule],
  controllers: [MetricsController],
  providers: [{ provide: Registry, useFactory: createMetricsRegistry }, RequestMetrics, ServerMetrics],
  exports: [RequestMetrics],
})
export class MetricsModule {}
