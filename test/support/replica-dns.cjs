// Preloaded into a process under test (`node --require`): the names listed in REPLICA_DNS
// ("name=127.0.0.1,127.0.0.2;other=127.0.0.5") resolve to those addresses, all of them with
// `{ all: true }`, as Docker's DNS answers for a scaled service; any other name fails at once
// with ENOTFOUND, so that no lookup leaves the machine. IP literals and `localhost` resolve as
// usual. Only loopback addresses (127.0.0.0/8) may be listed.
const dns = require('node:dns');
const { isIP } = require('node:net');

const table = new Map(
  (process.env.REPLICA_DNS ?? '')
    .split(';')
    .filter((entry) => entry.includes('='))
    .map((entry) => {
      const [name, list] = entry.split('=');
      const addresses = list.split(',').filter(Boolean);
      for (const address of addresses) {
        if (isIP(address) !== 4 || !address.startsWith('127.')) {
          throw new Error(`REPLICA_DNS: ${address} is not a loopback address (127.0.0.0/8)`);
        }
      }
      return [name.trim().toLowerCase(), addresses];
    }),
);

function notFound(hostname) {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
}

/** The answer of a lookup of a listed name: undefined for a name this file leaves to the system. */
function answer(hostname, options) {
  if (isIP(hostname) !== 0 || hostname === 'localhost') {
    return undefined;
  }
  const addresses = table.get(String(hostname).toLowerCase());
  if (addresses === undefined || addresses.length === 0) {
    return { error: notFound(hostname) };
  }
  const all = typeof options === 'object' && options !== null && options.all === true;
  const entries = addresses.map((address) => ({ address, family: 4 }));
  return { result: all ? [entries] : [entries[0].address, 4] };
}

const lookup = dns.lookup;
dns.lookup = function replicaLookup(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const found = answer(hostname, options);
  if (found === undefined) {
    lookup.call(this, hostname, options, callback);
    return;
  }
  if (found.error) {
    process.nextTick(done, found.error);
    return;
  }
  process.nextTick(done, null, ...found.result);
};

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = async function replicaPromisesLookup(hostname, options) {
  const found = answer(hostname, options);
  if (found === undefined) {
    return promisesLookup.call(this, hostname, options);
  }
  if (found.error) {
    throw found.error;
  }
  const [first, family] = found.result;
  return family === undefined ? first : { address: first, family };
};
