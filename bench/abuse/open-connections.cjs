// The server's own count of open connections per door, polled from its /metrics during the abuse
// (echo_server_connections_open{transport}). The attackers cannot count them: through Docker's userland
// proxy a connection the server has not accepted yet looks open from the host all the same.
const POLL_MS = 500;
const REQUEST_TIMEOUT_MS = 2_000;
const OPEN = /^echo_server_connections_open\{transport="(\w+)"\} (\d+)/gm;
/** Chat members the server cut off: a member that never reads cannot see its close behind the bytes it left unread. */
const CHAT_CUT_OFF = /^echo_server_chat_cut_off_total (\d+)/m;

/** Polls `http://host:port/metrics` every POLL_MS until `stop()`, which resolves with the largest count per transport and the chat members cut off meanwhile. */
function watchOpenConnections(host, port) {
  const peak = {};
  /** The counter at the first poll and at the last: the watch reports what happened while it ran. */
  let cutOffFirst;
  let cutOffLast = 0;
  let polls = 0;
  let failures = 0;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      try {
        const response = await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await response.text();
        for (const [, transport, count] of text.matchAll(OPEN)) {
          peak[transport] = Math.max(peak[transport] ?? 0, Number(count));
        }
        cutOffLast = Number(CHAT_CUT_OFF.exec(text)?.[1] ?? 0);
        cutOffFirst ??= cutOffLast;
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
      return { peak, chatCutOff: cutOffLast - (cutOffFirst ?? cutOffLast), polls, failures };
    },
  };
}

module.exports = { watchOpenConnections };
