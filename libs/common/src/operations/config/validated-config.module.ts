import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';

/**
 * A global `ConfigModule` serving an environment that was validated already
 * (see `validateEnvironment`): it reads no `.env` file and neither reads nor
 * writes `process.env`, so several instances can live in one process (tests).
 */
export function validatedConfigModule(environment: object): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    skipProcessEnv: true,
    validatePredefined: false,
    load: [() => ({ ...environment })],
  });
}
