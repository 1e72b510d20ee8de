import { buildDemoScript } from '@echo-pair/client-worker';
import { expectExitCode, type ProcessResult } from './run-process';

const DEMO_CALLS = buildDemoScript().length;

/**
 * A demo run that passed every step: exit code 0, a passing summary, a ✔ per call, no ✘, and the key steps' lines.
 * Over UDP the 1 MiB echo is the largest echo that fits one datagram.
 */
export function expectPassingDemo(result: ProcessResult, { overUdp = false }: { overUdp?: boolean } = {}): void {
  expectExitCode(result, 0);
  const transcript = result.stdout;
  expect(transcript).toMatch(new RegExp(`^summary: ${DEMO_CALLS} calls, ${DEMO_CALLS} passed, 0 failed, total \\d+\\.\\d ms$`, 'm'));
  expect(transcript).toMatch(/^✔ +\d+\.\d ms {2}echo Chinese "你好，世界" — byte-identical, 15 bytes, 5 code units, 5 code points$/m);
  expect(transcript).toMatch(
    overUdp
      ? /^✔ +\d+\.\d ms {2}echo largest that fits one datagram \(16 KiB limit\) \(\d+ bytes, sha256 [0-9a-f]{12}\) — byte-identical/m
      : /^✔ +\d+\.\d ms {2}echo 1 MiB mixed script \(\d+ bytes, sha256 [0-9a-f]{12}\) — byte-identical/m,
  );
  expect(transcript).toMatch(/^✔ +\d+\.\d ms {2}echo with a number for text — VALIDATION_FAILED, names field "text"/m);
  expect(transcript).toMatch(/^✔ +\d+\.\d ms {2}command rm \["-rf","\/"\] — UNKNOWN_COMMAND, lists the 8 known commands$/m);
  expect(transcript.match(/^✔ /gm)).toHaveLength(DEMO_CALLS);
  expect(transcript).not.toContain('✘');
}
