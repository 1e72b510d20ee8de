import type { DynamicModule, InjectionToken, Type } from '@nestjs/common';
import type { EchoServerEnvironment } from '../config/echo-server-environment';

/** A capability the server can do without: listed once in `optional-modules.ts`, removable with its folder. */
export interface OptionalModule extends Type<unknown> {
  forRoot(environment: EchoServerEnvironment): DynamicModule;
}

/** An optional door: its module also provides, under `served`, the `ServedTransport` it adds (null when disabled). */
export interface OptionalDoor extends OptionalModule {
  readonly served: InjectionToken;
}

export function isOptionalDoor(module: OptionalModule): module is OptionalDoor {
  return 'served' in module;
}
