import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { validatedConfigModule } from '@echo-pair/common';
import { CommandModule } from './command/command.module';
import type { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionsModule } from './connections/connections.module';
import { EchoController } from './echo/echo.controller';
import { RpcErrorEnvelopeFilter } from './errors/rpc-error-envelope.filter';
import { ContractValidationPipe } from './errors/contract-validation.pipe';
import { HealthHttpModule } from './health-http/health-http.module';
import { HelloController } from './hello/hello.controller';
import { MetricsModule } from './metrics/metrics.module';
import { NoteController } from './note/note.controller';
import { ShutdownModule } from './shutdown/shutdown.module';
import { StatsGuard } from './stats/stats.guard';
import { StatsModule } from './stats/stats.module';
import { TextGatewayModule } from './text-gateway/text-gateway.module';
import { UdpModule } from './udp/udp.module';

@Module({})
export class EchoServerModule {
  /** `environment` comes from `validateEnvironment(EchoServerEnvironment, ...)`. */
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    return {
      module: EchoServerModule,
      imports: [
        validatedConfigModule(environment),
        StatsModule,
        CommandModule,
        ConnectionsModule,
        ShutdownModule,
        TextGatewayModule,
        UdpModule,
        // The HTTP side port: `/metrics`, `/healthz`, `/readyz` (METRICS_ENABLED).
        ...(environment.METRICS_ENABLED ? [MetricsModule, HealthHttpModule] : []),
      ],
      controllers: [HelloController, EchoController, NoteController],
      providers: [
        { provide: APP_GUARD, useClass: StatsGuard },
        { provide: APP_FILTER, useClass: RpcErrorEnvelopeFilter },
        { provide: APP_PIPE, useClass: ContractValidationPipe },
      ],
    };
  }
}
