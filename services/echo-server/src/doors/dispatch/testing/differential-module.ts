import {
  type ArgumentMetadata,
  type ArgumentsHost,
  Catch,
  Controller,
  createParamDecorator,
  Injectable,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException, TcpContext } from '@nestjs/microservices';
import { defer, delay, EMPTY, from, map, type Observable, of, tap, throwError } from 'rxjs';

/** What a request asks the differential module's enhancers to do; `n` names the request in the trace. */
export interface Ask {
  n: number;
  guard?: 'sync' | 'deny' | 'promise' | 'observable' | 'throw' | 'truthy';
  pipe?: 'sync' | 'promise' | 'throw';
  intercept?: 'pass' | 'map' | 'short' | 'promise' | 'throw' | 'delay' | 'catch' | 'value' | 'array';
  text?: string;
}

/** Every step each request went through, in order: `<n> <step>`. */
export const differentialTrace: string[] = [];

const record = (ask: Partial<Ask> | undefined, step: string): void => {
  differentialTrace.push(`${ask?.n ?? '?'} ${step}`);
};
const askOf = (context: ExecutionContext): Ask | undefined => context.switchToRpc().getData<Ask | undefined>();

@Injectable()
class GlobalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    const ask = askOf(context);
    record(ask, `global guard ${context.getType()} ${context.getHandler().name}`);
    switch (ask?.guard) {
      case 'deny':
        return false;
      case 'promise':
        return Promise.resolve(true);
      case 'observable':
        return of(false, true);
      case 'throw':
        throw new RpcException({ code: 'GUARD_THREW' });
      case 'truthy':
        return 'yes' as unknown as boolean; // truthy, not a boolean: stock awaits it
      default:
        return true;
    }
  }
}

@Injectable()
class SecondGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    record(askOf(context), 'second guard');
    return true;
  }
}

@Injectable()
class GlobalPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const ask = value as Ask | undefined;
    record(
      typeof value === 'object' && value !== null && 'n' in value ? ask : undefined,
      `global pipe ${metadata.type} ${metadata.data ?? ''}`,
    );
    if (metadata.type !== 'body' || typeof value !== 'object' || value === null) {
      return value;
    }
    switch (ask?.pipe) {
      case 'promise':
        return Promise.resolve({ ...value, piped: 'later' });
      case 'throw':
        throw new RpcException({ code: 'PIPE_THREW' });
      default:
        return { ...value, piped: 'now' };
    }
  }
}

@Injectable()
class ParamPipe implements PipeTransform {
  transform(value: unknown): unknown {
    differentialTrace.push(`param pipe ${JSON.stringify(value)}`);
    if (value === 3) {
      throw new RpcException({ code: 'PARAM_PIPE_THREW' }); // the other parameters' pipes still run in stock
    }
    return typeof value === 'number' ? value + 1 : value;
  }
}

@Injectable()
class GlobalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    const ask = askOf(context);
    record(ask, 'global interceptor before');
    const after = tap({ next: () => record(ask, 'global interceptor after'), error: () => record(ask, 'global interceptor saw error') });
    switch (ask?.intercept) {
      case 'map':
        return next.handle().pipe(
          after,
          map((value) => ({ wrapped: value })),
        );
      case 'short':
        return of({ shortCircuited: ask.n });
      case 'promise':
        return Promise.resolve(next.handle().pipe(after));
      case 'throw':
        throw new RpcException({ code: 'INTERCEPTOR_THREW' });
      case 'delay':
        return next.handle().pipe(delay(1), after);
      case 'value':
        return 42 as never; // not a stream: stock's mergeAll fails on it
      case 'array':
        return [1, 2] as never; // stock's mergeAll spreads it
      case 'catch':
        return next.handle().pipe(
          after,
          map(() => {
            throw new Error('mapped to failure');
          }),
        );
      default:
        return next.handle().pipe(after);
    }
  }
}

@Injectable()
class InnerInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    record(askOf(context), 'inner interceptor');
    return defer(() => next.handle());
  }
}

@Catch()
class GlobalFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const ask = host.switchToRpc().getData<Ask | undefined>();
    const error = exception instanceof RpcException ? exception.getError() : String(exception);
    record(ask, `global filter ${JSON.stringify(error)}`);
    return throwError(() => ({ filtered: error, tcp: host.switchToRpc().getContext<unknown>() instanceof TcpContext }));
  }
}

@Catch(RpcException)
class LocalFilter implements RpcExceptionFilter<RpcException> {
  catch(exception: RpcException): Observable<never> {
    return throwError(() => ({ local: exception.getError() }));
  }
}

const Peer = createParamDecorator((data: 'sync' | 'promise', context: ExecutionContext): unknown => {
  const pattern = context.switchToRpc().getContext<TcpContext>().getPattern();
  return data === 'promise' ? Promise.resolve(`later ${pattern}`) : `now ${pattern}`;
});

@Controller()
class DifferentialController {
  @MessagePattern('plain')
  plain(@Payload() ask: Ask, @Ctx() context: TcpContext): unknown {
    record(ask, 'handler plain');
    if (ask.text === 'throw') {
      throw new Error('handler threw');
    }
    if (ask.text === 'rpc') {
      throw new RpcException({ code: 'HANDLER_REFUSED', n: ask.n });
    }
    return ask.text === 'undefined' ? undefined : { ...ask, pattern: context.getPattern() };
  }

  @MessagePattern('async')
  async later(@Payload() ask: Ask): Promise<unknown> {
    record(ask, 'handler async');
    await new Promise((resolve) => setImmediate(resolve));
    if (ask.text === 'throw') {
      throw new Error('async handler threw');
    }
    return { later: ask.n };
  }

  @MessagePattern('stream')
  stream(@Payload() ask: Ask): Observable<unknown> {
    record(ask, 'handler stream');
    switch (ask.text) {
      case 'empty':
        return EMPTY;
      case 'fail':
        return from([1, 2]).pipe(
          map((value) => {
            if (value === 2) {
              throw new Error('stream failed');
            }
            return value;
          }),
        );
      case 'delayed':
        return of(ask.n).pipe(delay(1));
      default:
        return of(1, 2, 3);
    }
  }

  @MessagePattern('decorated')
  @UseGuards(SecondGuard)
  @UseInterceptors(InnerInterceptor)
  @UsePipes(ParamPipe)
  @UseFilters(LocalFilter)
  decorated(@Payload('n', ParamPipe) n: number, @Peer('sync') now: string, @Peer('promise') later: string): unknown {
    differentialTrace.push(`${n - 2} handler decorated`);
    return { n, now, later };
  }

  @EventPattern('noted')
  noted(@Payload() ask: Ask): void {
    record(ask, 'event handler');
  }

  /** A second handler of the event: Nest joins both; its stream is subscribed only if Nest subscribes it. */
  @EventPattern('noted')
  notedAgain(@Payload() ask: Ask): Observable<number> {
    return defer(() => {
      record(ask, 'second event handler subscribed');
      return of(1);
    });
  }
}

/** A controller with every kind of guard, pipe, interceptor and filter answer, for the differential spec. */
@Module({
  controllers: [DifferentialController],
  providers: [
    { provide: APP_GUARD, useClass: GlobalGuard },
    { provide: APP_PIPE, useClass: GlobalPipe },
    { provide: APP_INTERCEPTOR, useClass: GlobalInterceptor },
    { provide: APP_FILTER, useClass: GlobalFilter },
    SecondGuard,
    ParamPipe,
    InnerInterceptor,
  ],
})
export class DifferentialModule {}
