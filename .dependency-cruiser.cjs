// The architecture as rules: `npm run lint` runs `depcruise` with this file, and a wrong import
// fails with the rule's name. docs/architecture.md draws the layers these rules keep.
// Each layer may import only the layers below it:
//   echo-server:   app (src/*.ts) > doors > operations > patterns > core > config
//   client-worker: app (src/*.ts) > modes (demo, load, repl) > connection, metrics, shutdown > output > config
//   libs/common:   operations > client > transport > contract
//   libs/testcontainers (a test library, docs/testcontainers.md) > libs/common, by its name only
// Specs and test helpers may wire layers together; the rules read production files only.

const PRODUCTION = '^(libs|services)/[^/]+/src/';
const NOT_PRODUCTION = '\\.spec\\.ts$|/testing/|/fake-[^/]+\\.ts$';

const SERVER = '^services/echo-server/src/';
const WORKER = '^services/client-worker/src/';
const COMMON = '^libs/common/src/';
const TESTCONTAINERS = '^libs/testcontainers/';

/** `from` one layer, `to` any of the layers above it. */
function noUpward(name, comment, from, above) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: from, pathNot: NOT_PRODUCTION },
    to: { path: above },
  };
}

/** An optional module: only its own folder and its one registration line may import it. */
function removable(name, folder, registeredIn) {
  return {
    name,
    comment: `${folder} is optional (docs/removable-modules.md): only its line in ${registeredIn} may import it, so deleting both leaves a working tree`,
    severity: 'error',
    from: { path: PRODUCTION, pathNot: `${folder}|${registeredIn}$|${NOT_PRODUCTION}` },
    to: { path: folder },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles in production code (type-only imports count).',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: NOT_PRODUCTION },
      to: { circular: true, viaOnly: { pathNot: NOT_PRODUCTION } },
    },
    {
      name: 'services-use-the-public-api-of-common',
      comment: 'Services import @echo-pair/common by its name (its index.ts), never a file inside it.',
      severity: 'error',
      from: { path: '^services/', pathNot: NOT_PRODUCTION },
      to: { path: `${COMMON}(?!index\\.ts$)` },
    },
    {
      name: 'testcontainers-module-uses-the-public-api-of-common',
      comment: 'libs/testcontainers imports @echo-pair/common by its name (its index.ts), never a file inside it.',
      severity: 'error',
      from: { path: TESTCONTAINERS, pathNot: NOT_PRODUCTION },
      to: { path: `${COMMON}(?!index\\.ts$)` },
    },
    {
      name: 'nothing-ships-the-testcontainers-module',
      comment: 'libs/testcontainers is for tests: no service or library imports it (the images would need testcontainers).',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: `${TESTCONTAINERS}|${NOT_PRODUCTION}` },
      to: { path: TESTCONTAINERS },
    },
    {
      name: 'common-knows-no-service',
      comment: 'libs/common is below both services.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^services/' },
    },

    // echo-server
    noUpward(
      'server-config-is-the-bottom',
      'Settings are read by every layer and import none.',
      `${SERVER}config/`,
      `${SERVER}(core|patterns|operations|doors)/|${SERVER}[^/]+\\.ts$`,
    ),
    noUpward(
      'server-core-knows-no-layer-above',
      'core holds what every layer shares (the served call, its errors, the tokens that invert dependencies).',
      `${SERVER}core/`,
      `${SERVER}(patterns|operations|doors)/|${SERVER}[^/]+\\.ts$`,
    ),
    noUpward(
      'server-patterns-know-no-doors-or-operations',
      'Patterns are what users add to: they know the contract, core and config only.',
      `${SERVER}patterns/`,
      `${SERVER}(operations|doors)/|${SERVER}[^/]+\\.ts$`,
    ),
    noUpward(
      'server-operations-know-no-doors',
      'Operations observe the doors through core (SERVED_TRANSPORTS, the served call), never a door itself.',
      `${SERVER}operations/`,
      `${SERVER}doors/|${SERVER}[^/]+\\.ts$`,
    ),
    noUpward(
      'server-doors-know-no-patterns',
      'Doors know the contract and Nest, not the patterns behind them.',
      `${SERVER}doors/`,
      `${SERVER}patterns/|${SERVER}[^/]+\\.ts$`,
    ),

    // client-worker
    noUpward(
      'worker-config-is-the-bottom',
      'Settings import no other layer.',
      `${WORKER}config/`,
      `${WORKER}(output|connection|metrics|shutdown|modes)/|${WORKER}[^/]+\\.ts$`,
    ),
    noUpward(
      'worker-output-knows-only-config',
      'Output formatting is below every mode.',
      `${WORKER}output/`,
      `${WORKER}(connection|metrics|shutdown|modes)/|${WORKER}[^/]+\\.ts$`,
    ),
    noUpward(
      'worker-services-know-no-modes',
      'The connection, metrics and shutdown serve the modes and know none of them.',
      `${WORKER}(connection|metrics|shutdown)/`,
      `${WORKER}modes/|${WORKER}[^/]+\\.ts$`,
    ),
    noUpward(
      'worker-modes-know-no-app',
      'A mode is started by the app and imports none of its wiring.',
      `${WORKER}modes/`,
      `${WORKER}[^/]+\\.ts$`,
    ),

    // libs/common
    noUpward(
      'common-contract-is-the-bottom',
      'The wire contract imports no other layer of the library.',
      `${COMMON}contract/`,
      `${COMMON}(transport|client|operations)/|${COMMON}index\\.ts$`,
    ),
    noUpward(
      'common-transport-knows-only-the-contract',
      'Framing and trace context sit on the contract.',
      `${COMMON}transport/`,
      `${COMMON}(client|operations)/|${COMMON}index\\.ts$`,
    ),
    noUpward(
      'common-client-knows-no-operations',
      'The client sits on transport and contract.',
      `${COMMON}client/`,
      `${COMMON}operations/|${COMMON}index\\.ts$`,
    ),

    // optional modules (docs/removable-modules.md)
    removable('removable-text-gateway', `${SERVER}doors/text-gateway/`, `${SERVER}optional-modules\\.ts`),
    removable('removable-udp-server', `${SERVER}doors/udp/`, `${SERVER}optional-modules\\.ts`),
    removable('removable-http-side-port', `${SERVER}operations/http-side-port/`, `${SERVER}optional-modules\\.ts`),
    removable('removable-tls', `${SERVER}doors/tls/`, `${SERVER}optional-modules\\.ts`),
    removable('removable-udp-client', `${COMMON}client/udp/`, `${COMMON}client/client-features\\.ts`),
    removable('removable-balancing', `${COMMON}client/balancing/`, `${COMMON}client/client-features\\.ts`),
    removable('removable-tracing', `${SERVER}operations/tracing/`, `${SERVER}optional-modules\\.ts`),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['/dist/', 'node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.spec.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
