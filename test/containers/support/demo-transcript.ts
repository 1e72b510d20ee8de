import { buildDemoScript } from '@echo-pair/client-worker';
import { expectExitCode, type ProcessResult } from '../../support/run-process';

const DEMO_CALLS = buildDemoScript().length;

/** A demo run that passed every step: exit code 0, a passing summary, a ✔ per call and no ✘. */
export function expectPassingDemo(result: ProcessResult): void {
  expectExitCode(result, 0);
  expect(result.stdout).toMatch(new RegExp(`^summary: ${DEMO_CALLS} calls, ${DEMO_CALLS} passed, 0 failed, total \\d+\\.\\d ms$`, 'm'));
  expect(result.stdout).toMatch(/^✔ +\d+\.\d ms {2}echo 1 MiB mixed script \(\d+ bytes, sha256 [0-9a-f]{12}\) — byte-identical/m);
  expect(result.stdout.match(/^✔ /gm)).toHaveLength(DEMO_CALLS);
  expect(result.stdout).not.toContain('✘');
}
