import { runNode, expectExitCode } from './support/run-process';

// A user's program imports the built packages as they are, often before anything else:
// each must load in a fresh process that has not loaded reflect-metadata first.
describe.each(['@echo-pair/common', '@echo-pair/echo-server', '@echo-pair/client-worker'])('the built %s', (name) => {
  it('loads in a fresh Node process on its own', async () => {
    const result = await runNode(['-e', `require(${JSON.stringify(name)})`], { timeoutMs: 30_000 });
    expectExitCode(result, 0);
  });
});
