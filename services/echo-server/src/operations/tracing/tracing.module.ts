import { Module, type DynamicModule } from '@nestjs/common';
import { activeTracer } from '@echo-pair/common';
import { ShutdownModule } from '../shutdown/shutdown.module';
import { DrainService } from '../shutdown/drain.service';
import { ServerTracing } from './server-tracing';

/**
 * Tracing (an optional module). With tracing on (`startTracing` before the server is built), a server span per handled message:
 * `ServerTracing`, registered with the drain's processing hooks as it is made, so before any other
 * observer (its span is the outermost). With tracing off, nothing: the hooks stay what they are without it.
 */
@Module({
  imports: [ShutdownModule],
  providers: [
    {
      provide: ServerTracing,
      inject: [DrainService],
      useFactory: (drain: DrainService): ServerTracing | null => {
        const tracer = activeTracer();
        if (tracer === undefined) {
          return null;
        }
        const tracing = new ServerTracing(tracer);
        // The exception filter reports each failure's code to the drain service, which tells the observers.
        tracing.expectFailures();
        drain.observe(tracing);
        return tracing;
      },
    },
  ],
})
export class TracingModule {
  /** An optional module: the same with any settings (tracing is on when `startTracing` ran). */
  static forRoot(): DynamicModule {
    return { module: TracingModule };
  }
}
