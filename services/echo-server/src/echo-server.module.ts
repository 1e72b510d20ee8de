import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { validatedConfigModule } from '@echo-pair/common';
import { CommandModule } from './patterns/command/command.module';
import { validatesResponses, type EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionsModule } from './operations/connections/connections.module';
import { RpcErrorEnvelopeFilter } from './operations/errors/rpc-error-envelope.filter';
import { ContractValidationPipe } from './core/validation/contract-validation.pipe';
import { ResponseValidationInterceptor } from './core/validation/response-validation.interceptor';
import { PATTERN_CONTROLLERS } from './patterns/pattern-handlers';
import { ServedPatterns } from './patterns/served-patterns.service';
import { ShutdownModule } from './operations/shutdown/shutdown.module';
import { StatsGuard } from './operations/stats/stats.guard';
import { StatsModule } from './operations/stats/stats.module';
import { isOptionalDoor, type OptionalModule } from './core/optional-module';
import * as OPTIONAL_MODULES from './optional-modules';
import { ServedTransportsModule } from './doors/served-transports.module';

/** What `optional-modules.ts` lists, in its order. */
const OPTIONAL: readonly OptionalModule[] = Object.values(OPTIONAL_MODULES);

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
        // Nest's TCP transport and the optional doors, as SERVED_TRANSPORTS.
        ServedTransportsModule.forRoot(environment, OPTIONAL.filter(isOptionalDoor)),
        // The other optional modules: the HTTP side port (metrics and probes), tracing.
        ...OPTIONAL.filter((module) => !isOptionalDoor(module)).map((module) => module.forRoot(environment)),
      ],
      controllers: PATTERN_CONTROLLERS,
      providers: [
        ServedPatterns,
        { provide: APP_GUARD, useClass: StatsGuard },
        { provide: APP_FILTER, useClass: RpcErrorEnvelopeFilter },
        { provide: APP_PIPE, useClass: ContractValidationPipe },
        // VALIDATE_RESPONSES (on unless NODE_ENV=production): off, no interceptor at all.
        ...(validatesResponses(environment) ? [{ provide: APP_INTERCEPTOR, useClass: ResponseValidationInterceptor }] : []),
      ],
    };
  }
}
