import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { validatedConfigModule } from '@echo-pair/common';
import { CommandModule } from './patterns/command/command.module';
import type { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionsModule } from './operations/connections/connections.module';
import { RpcErrorEnvelopeFilter } from './operations/errors/rpc-error-envelope.filter';
import { ContractValidationPipe } from './core/validation/contract-validation.pipe';
import { PATTERN_CONTROLLERS } from './patterns/pattern-handlers';
import { ServedPatterns } from './patterns/served-patterns.service';
import { HealthHttpModule } from './operations/health-http/health-http.module';
import { MetricsModule } from './operations/metrics/metrics.module';
import { ShutdownModule } from './operations/shutdown/shutdown.module';
import { StatsGuard } from './operations/stats/stats.guard';
import { StatsModule } from './operations/stats/stats.module';
import { TracingModule } from './operations/tracing/tracing.module';
import { ServedTransportsModule } from './doors/served-transports.module';

@Module({})
export class EchoServerModule {
  /**
   * `environment` comes from `validateEnvironment(EchoServerEnvironment, ...)`. The TLS files it
   * names are read here: a bad one throws `InvalidConfigurationError` before Nest builds anything.
   */
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    return {
      module: EchoServerModule,
      imports: [
        DiscoveryModule,
        validatedConfigModule(environment),
        StatsModule,
        CommandModule,
        ConnectionsModule,
        ShutdownModule,
        // The strategies of Nest's TCP transport, the text gateway and UDP, as SERVED_TRANSPORTS.
        ServedTransportsModule.forRoot(environment),
        // A server span per message, with tracing on (`startTracing` before this).
        TracingModule,
        // The HTTP side port: `/metrics`, `/healthz`, `/readyz` (METRICS_ENABLED).
        ...(environment.METRICS_ENABLED ? [MetricsModule, HealthHttpModule] : []),
      ],
      controllers: PATTERN_CONTROLLERS,
      providers: [
        ServedPatterns,
        { provide: APP_GUARD, useClass: StatsGuard },
        { provide: APP_FILTER, useClass: RpcErrorEnvelopeFilter },
        { provide: APP_PIPE, useClass: ContractValidationPipe },
      ],
    };
  }
}
