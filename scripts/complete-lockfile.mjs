// Adds the lockfile entries that `npm install` leaves out when the registry does not serve
// every platform's build of an optional dependency (this project's machines use a registry
// mirror without them). Without the entries, `npm ci` stops with "Missing: X from lock file".
// An added entry names the version only: npm fetches it where it is served and skips it,
// as an optional dependency, where it is not. Idempotent; run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];

for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (!(nested in packages) && !(hoisted in packages)) {
      packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
      added.push(`${name}@${version}`);
    }
  }
}

if (added.length > 0) {
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`complete-lockfile: ${added.length === 0 ? 'nothing to add' : `added ${added.join(', ')}`}`);
