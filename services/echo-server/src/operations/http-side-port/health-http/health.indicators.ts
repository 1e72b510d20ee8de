import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { StatsService } from '../../stats/stats.service';
import { Readiness } from './readiness.service';

/** Terminus indicators of the HTTP probes, built with its `HealthIndicatorService` (the v11+ API). */
@Injectable()
export class EchoServerHealthIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
    private readonly stats: StatsService,
  ) {}

  /** Liveness: answering at all is the proof (the event loop runs the check); up, with the uptime. */
  process(): HealthIndicatorResult<'process'> {
    return this.indicators.check('process').up({ uptimeSeconds: Math.round(this.stats.uptimeSeconds()) });
  }

  /** Readiness: every transport listens and no drain has begun; down otherwise, saying which. */
  transports(): HealthIndicatorResult<'transports'> {
    const { ready, draining, transports } = this.readiness.state();
    const session = this.indicators.check('transports');
    return ready ? session.up({ draining, ...transports }) : session.down({ draining, ...transports });
  }
}
