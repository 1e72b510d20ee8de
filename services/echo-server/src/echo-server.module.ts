import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { validateEnvironment } from '@echo-pair/common';
import { CommandModule } from './command/command.module';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionTracker } from './connections/connection-tracker.service';
import { EchoController } from './echo/echo.controller';
import { RpcErrorEnvelopeFilter } from './errors/rpc-error-envelope.filter';
import { createValidationException } from './errors/validation-exception.factory';
import { HelloController } from './hello/hello.controller';
import { NoteController } from './note/note.controller';
import { StatsInterceptor } from './stats/stats.interceptor';
import { StatsModule } from './stats/stats.module';

export interface EchoServerModuleOptions {
  /** Where configuration is read from; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

@Module({})
export class EchoServerModule {
  static forRoot({ env = process.env }: EchoServerModuleOptions = {}): DynamicModule {
    return {
      module: EchoServerModule,
      imports: [
        // Validated once from `env`; neither read back from nor written to process.env.
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          validatePredefined: false,
          load: [() => ({ ...validateEnvironment(EchoServerEnvironment, env) })],
        }),
        StatsModule,
        CommandModule,
      ],
      controllers: [HelloController, EchoController, NoteController],
      providers: [
        ConnectionTracker,
        { provide: APP_INTERCEPTOR, useClass: StatsInterceptor },
        { provide: APP_FILTER, useClass: RpcErrorEnvelopeFilter },
        {
          provide: APP_PIPE,
          useFactory: () =>
            new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, exceptionFactory: createValidationException }),
        },
      ],
    };
  }
}
