import { APP_INTERCEPTOR } from '@nestjs/core';
import { validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { ResponseValidationInterceptor } from './core/validation/response-validation.interceptor';
import { EchoServerModule } from './echo-server.module';

function interceptorsWith(env: Record<string, string | undefined>): unknown[] {
  const { providers = [] } = EchoServerModule.forRoot(validateEnvironment(EchoServerEnvironment, env));
  return providers.filter((provider) => typeof provider === 'object' && 'provide' in provider && provider.provide === APP_INTERCEPTOR);
}

describe('EchoServerModule', () => {
  it.each([{}, { NODE_ENV: 'development' }, { NODE_ENV: 'production', VALIDATE_RESPONSES: 'true' }])('checks responses with %p', (env) => {
    expect(interceptorsWith(env)).toEqual([{ provide: APP_INTERCEPTOR, useClass: ResponseValidationInterceptor }]);
  });

  it.each([{ VALIDATE_RESPONSES: 'false' }, { NODE_ENV: 'production' }])('registers no interceptor at all with %p', (env) => {
    expect(interceptorsWith(env)).toEqual([]);
  });
});
