import { Module, type DynamicModule, type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { ECHO_CLIENT_OPTIONS } from './echo-client.constants';
import type { EchoClientOptions } from './echo-client-options';
import { EchoClient } from './echo-client';

export interface EchoClientModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => EchoClientOptions | Promise<EchoClientOptions>;
}

/** Provides an `EchoClient`, closed on application shutdown. */
@Module({})
export class EchoClientModule {
  static register(options: EchoClientOptions): DynamicModule {
    return EchoClientModule.registerAsync({ useFactory: () => options });
  }

  static registerAsync(options: EchoClientModuleAsyncOptions): DynamicModule {
    return {
      module: EchoClientModule,
      imports: options.imports ?? [],
      providers: [
        { provide: ECHO_CLIENT_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: EchoClient,
          inject: [ECHO_CLIENT_OPTIONS],
          useFactory: (clientOptions: EchoClientOptions) => EchoClient.create(clientOptions),
        },
      ],
      exports: [EchoClient, ECHO_CLIENT_OPTIONS],
    };
  }
}
