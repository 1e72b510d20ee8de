import type { Config } from 'jest';

const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
};

// Tests run against the workspaces' sources, not their compiled `dist`.
const moduleNameMapper: Config['moduleNameMapper'] = {
  '^@echo-pair/(common|testcontainers|echo-server|client-worker)$': [
    '<rootDir>/libs/$1/src/index.ts',
    '<rootDir>/services/$1/src/index.ts',
  ],
};

// Node's environment, capturing what the code under test logs (Nest's logger, console.log/warn/error)
// instead of printing it: a failing test prints its captured lines, a test asserts the warnings it
// expects with test/support/captured-logs.ts; TEST_LOGS=print prints them as they come.
const shared = {
  testEnvironment: '<rootDir>/test/support/quiet-environment.ts',
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata'],
};

const config: Config = {
  reporters: ['default', '<rootDir>/scripts/plain-summary-reporter.cjs'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/services/*/src/**/*.spec.ts'] },
    // Unit tests keep Jest's default timeout (5 s). Jest's runner ignores a project's
    // `testTimeout`, so e2e-setup.ts sets the e2e one: above the longest process bound
    // (MAX_PROCESS_MS in test/support/run-process.ts), and it kills processes a test left running.
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
      slowTestThreshold: 30,
    },
    // Docker: the global setup checks the engine and builds both images once per run (and points
    // ECHO_SERVER_IMAGE at the server's, for EchoServerContainer's default); the
    // setup file sets this project's timeout and fails each suite in one line without an engine.
    {
      ...shared,
      displayName: 'containers',
      // A service's own container suites too (services/<name>/test/, docs/testcontainers.md).
      testMatch: ['<rootDir>/test/containers/**/*.container-spec.ts', '<rootDir>/services/*/test/**/*.container-spec.ts'],
      globalSetup: '<rootDir>/test/containers/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/containers/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/containers/support/containers-setup.ts'],
      slowTestThreshold: 60,
    },
  ],
};

export default config;
