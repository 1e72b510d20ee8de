import { getContainerRuntimeClient } from 'testcontainers';
import type { ProcessResult } from '../../support/run-process';
import { withTimeout } from './bounded';

/**
 * Waits, at most `timeoutMs`, for a container to exit, and returns its exit code and
 * output in the shape of a process result (so `expectExitCode` prints it on failure).
 */
export async function waitForExit(containerId: string, timeoutMs: number): Promise<ProcessResult> {
  const container = (await getContainerRuntimeClient()).container.getById(containerId);
  let timedOut = false;
  await withTimeout(container.wait() as Promise<unknown>, timeoutMs, `waiting for container ${containerId.slice(0, 12)} to exit`).catch(
    () => {
      timedOut = true;
    },
  );
  const { State } = await container.inspect();
  const output = demultiplex(await container.logs({ stdout: true, stderr: true, follow: false }));
  return { code: State.Running ? null : State.ExitCode, signal: null, timedOut, ...output };
}

/**
 * Splits the logs of a container without a TTY into stdout and stderr: frames of an
 * 8-byte header (stream, 3 zero bytes, big-endian length) and the payload. A
 * stream's frames are joined before decoding, as a frame may end inside a character.
 */
function demultiplex(logs: Buffer): { stdout: string; stderr: string } {
  const streams: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  for (let offset = 0; offset + 8 <= logs.length;) {
    const length = logs.readUInt32BE(offset + 4);
    streams[logs[offset] === 2 ? 'stderr' : 'stdout'].push(logs.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(streams.stdout).toString('utf8'), stderr: Buffer.concat(streams.stderr).toString('utf8') };
}
