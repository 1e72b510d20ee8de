import { Module, type DynamicModule } from '@nestjs/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { HTTP_SIDE_PORT, type HttpSidePort } from '../../core/served-transport';
import { AsyncApiModule } from './asyncapi/asyncapi.module';
import { HealthHttpModule } from './health-http/health-http.module';
import { MetricsModule } from './metrics/metrics.module';

/**
 * The HTTP side port (an optional module): `/metrics`, `/healthz`, `/readyz` and `/asyncapi.json`
 * (the wire contract as AsyncAPI 3.0), with METRICS_ENABLED. It provides HTTP_SIDE_PORT, which
 * tells `startEchoServer` to listen on it.
 */
@Module({})
export class HttpSidePortModule {
  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    if (!environment.METRICS_ENABLED) {
      return { module: HttpSidePortModule };
    }
    const sidePort: HttpSidePort = { host: environment.METRICS_HOST ?? environment.ECHO_HOST, port: environment.METRICS_PORT };
    return {
      module: HttpSidePortModule,
      global: true,
      imports: [MetricsModule, HealthHttpModule, AsyncApiModule],
      providers: [{ provide: HTTP_SIDE_PORT, useValue: sidePort }],
      exports: [HTTP_SIDE_PORT],
    };
  }
}
