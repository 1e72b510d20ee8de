import 'reflect-metadata';
import { describeError, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { probeHealth, probeHostFor, probeTlsOptionsFor } from './operations/health/health-probe';

/** The container's HEALTHCHECK: exit 0 when the local server answers `hello`, 1 otherwise. */
async function main(): Promise<number> {
  const environment = validateEnvironment(EchoServerEnvironment, process.env);
  const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS) || 2_000;
  const host = probeHostFor(environment.ECHO_HOST);
  const tls = probeTlsOptionsFor(environment);
  const result = await probeHealth({ host, port: environment.ECHO_PORT, timeoutMs, tls });
  console.log(
    `${result.healthy ? 'healthy' : 'unhealthy'}: ${host}:${environment.ECHO_PORT}${tls === undefined ? '' : ' (TLS)'} ${result.detail}`,
  );
  return result.healthy ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.log(`unhealthy: ${describeError(error)}`);
    process.exit(1);
  },
);
