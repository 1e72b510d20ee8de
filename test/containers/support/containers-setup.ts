import { configureTestcontainers, oneLineError } from './docker-engine';
import { setupFailure } from './test-run';

// Jest's runner ignores a project's `testTimeout`; set here, it applies to this project alone.
// Above every bound the suites set themselves (container start-up, exits, cleanup steps),
// so that those fail first, with their own message, and leave nothing behind.
jest.setTimeout(300_000);

configureTestcontainers();

const failure = setupFailure();
if (failure !== undefined) {
  throw oneLineError(failure);
}
