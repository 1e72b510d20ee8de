import { killStrayProcesses, MAX_PROCESS_MS } from './run-process';

// Jest's runner takes the test timeout from the root config only and ignores a
// project's `testTimeout`; set here, it applies to the e2e project alone.
// Above the longest process bound, so that a slow process fails with its own output.
jest.setTimeout(MAX_PROCESS_MS + 30_000);

afterEach(killStrayProcesses);
