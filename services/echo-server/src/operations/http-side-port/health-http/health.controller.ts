import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { EchoServerHealthIndicators } from './health.indicators';

/**
 * The HTTP probes of the side port, for orchestrators that probe HTTP: `/healthz` (liveness,
 * 200 while the process serves) and `/readyz` (readiness, 503 before every transport listens
 * and once the drain began). Terminus answers 503 with its result when an indicator is down.
 * The container's HEALTHCHECK stays the protocol-level `hello` through the framing.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: EchoServerHealthIndicators,
  ) {}

  @Get('healthz')
  @HealthCheck()
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.process()]);
  }

  @Get('readyz')
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.transports()]);
  }
}
