import { ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { DrainService } from '../../shutdown/drain.service';
import { StatsService } from '../../stats/stats.service';
import { HealthController } from './health.controller';
import { EchoServerHealthIndicators } from './health.indicators';
import { Readiness } from './readiness.service';

describe('HealthController (terminus)', () => {
  let controller: HealthController;
  let readiness: Readiness;
  let drain: { draining: boolean };

  beforeEach(async () => {
    drain = { draining: false };
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [Readiness, EchoServerHealthIndicators, StatsService, { provide: DrainService, useValue: drain }],
    }).compile();
    controller = moduleRef.get(HealthController);
    readiness = moduleRef.get(Readiness);
  });

  /** What terminus throws for a failed check: Nest's HTTP handling makes it a 503 with this body. */
  async function unavailable(check: Promise<unknown>): Promise<unknown> {
    const error = await check.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    return (error as ServiceUnavailableException).getResponse();
  }

  it('/healthz: the process is up whatever the transports do', async () => {
    drain.draining = true;

    await expect(controller.liveness()).resolves.toEqual({
      status: 'ok',
      info: { process: { status: 'up', uptimeSeconds: expect.any(Number) as number } },
      error: {},
      details: { process: { status: 'up', uptimeSeconds: expect.any(Number) as number } },
    });
  });

  it('/readyz: up, with each transport, once they all listen', async () => {
    readiness.watch('tcp', () => true);
    readiness.watch('udp', () => true);

    await expect(controller.readiness()).resolves.toMatchObject({
      status: 'ok',
      details: { transports: { status: 'up', draining: false, tcp: 'listening', udp: 'listening' } },
    });
  });

  it('/readyz: 503 before the transports listen', async () => {
    expect(await unavailable(controller.readiness())).toMatchObject({
      status: 'error',
      error: { transports: { status: 'down', draining: false } },
    });
  });

  it('/readyz: 503 once the drain has begun', async () => {
    readiness.watch('tcp', () => true);
    drain.draining = true;

    expect(await unavailable(controller.readiness())).toMatchObject({
      status: 'error',
      error: { transports: { status: 'down', draining: true, tcp: 'listening' } },
    });
  });
});
