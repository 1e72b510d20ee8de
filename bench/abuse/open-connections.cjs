// The server's own count of open connections per door, polled from its /metrics during the abuse
// (echo_server_connections_open{transport}). The attackers cannot count them: through Docker's userland
// proxy a connection the server has not accepted yet looks open from the host all the same.
const POLL_MS = 500;
const REQUEST_TIMEOUT_MS = 2_000;
const OPEN = /^echo_server_connections_open\{transport="(\w+)"\} (\d+)/gm;

/** Polls `http://host:port/metrics` every POLL_MS until `stop()`, which resolves with the largest count per transport. */
function watchOpenConnections(host, port) {
  const peak = {};
  let polls = 0;
  let failures = 0;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      try {
        const response = await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        for (const [, transport, count] of (await response.text()).matchAll(OPEN)) {
          peak[transport] = Math.max(peak[transport] ?? 0, Number(count));
        }
        polls += 1;
      } catch {
        failures += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const running = poll();
  return {
    async stop() {
      stopped = true;
      await running;
      return { peak, polls, failures };
    },
  };
}

module.exports = { watchOpenConnections };
