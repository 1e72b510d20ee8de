// `npm run contract:asyncapi`: writes docs/asyncapi.yaml, the wire contract as an AsyncAPI 3.0
// document, from the built libs/common (`contractAsyncApi()`, the function the server serves at
// GET /asyncapi.json), formatted by Prettier so that `prettier --check` keeps it as written.
// Deterministic: the same contract writes the same file; a unit spec
// (libs/common/src/contract/asyncapi/contract-asyncapi.spec.ts) fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'asyncapi.yaml');
const require = createRequire(import.meta.url);

// As in the server and the tests: decorators record their design types only with reflect-metadata.
require('reflect-metadata');
const { contractAsyncApi } = require(join(root, 'libs', 'common', 'dist', 'index.js'));

const header = '# Generated from CONTRACT (libs/common/src/contract/wire-contract.ts) by `npm run contract:asyncapi`: do not edit.\n';
const text = header + stringify(contractAsyncApi(), { lineWidth: 0 });
const formatted = await prettier.format(text, { ...(await prettier.resolveConfig(target)), filepath: target });
writeFileSync(target, formatted);
console.log(`contract:asyncapi: wrote ${relative(root, target)}`);
