// Preloaded into a process under test (`node --require`): its name lookups fail
// at once with ENOTFOUND instead of asking a DNS server, so that a test about an
// unresolvable ECHO_HOST sends no traffic beyond 127.0.0.1. IP literals and
// `localhost` resolve as usual.
const dns = require('node:dns');
const { isIP } = require('node:net');

const lookup = dns.lookup;

dns.lookup = function offlineLookup(hostname, options, callback) {
  if (isIP(hostname) !== 0 || hostname === 'localhost') {
    lookup.call(this, hostname, options, callback);
    return;
  }
  const done = typeof options === 'function' ? options : callback;
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname,
  });
  process.nextTick(done, error);
};
