// Jest reporter that ends the run with one plain line, "tests: N passed, N failed, N skipped",
// which CI log readers understand whatever the test runner.
class PlainSummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

module.exports = PlainSummaryReporter;
