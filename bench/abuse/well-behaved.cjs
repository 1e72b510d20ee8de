// The well-behaved load of the abuse suite and the soak: one connection to the Nest TCP door sending `echo`
// requests and one to the text door sending lines, each at a fixed modest rate, recording each call's latency.
// A call fails on an error reply, a wrong reply, a connection that is refused or lost, or no reply within
// CALL_TIMEOUT_MS. No dependencies (Node's `net` and `perf_hooks` only), so that it runs in a bare
// node:24-bookworm-slim container on the server's network: from another address than the abusers', which
// come through the published ports and so share the bridge gateway's address (docs/testing.md).
// Usage: node well-behaved.cjs <host> <tcpPort> <textPort> <seconds> [tcpPerSecond=50] [textPerSecond=20]
// Prints one JSON line: per door sent, ok, failed (by reason), p50/p99/max in ms.
const { connect } = require('node:net');
const { createHistogram } = require('node:perf_hooks');

const CALL_TIMEOUT_MS = 5_000;
const RECONNECT_MS = 200;
const MAX_SECONDS = 3_600;

/** Lengths and ids in Nest's TCP framing: `<length>#<json>`, the length in UTF-16 code units (ASCII here). */
function nestFraming() {
  let buffer = '';
  return {
    encode: (id, text) => {
      const json = JSON.stringify({ pattern: 'echo', data: { text }, id: String(id) });
      return `${json.length}#${json}`;
    },
    /** The complete packets of `chunk` and what came before it; throws on a malformed header. */
    decode(chunk) {
      buffer += chunk;
      const packets = [];
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash < 0) break;
        const length = Number(buffer.slice(0, hash));
        if (!Number.isInteger(length) || length < 0) throw new Error(`bad frame header ${JSON.stringify(buffer.slice(0, 20))}`);
        if (buffer.length < hash + 1 + length) break;
        packets.push(JSON.parse(buffer.slice(hash + 1, hash + 1 + length)));
        buffer = buffer.slice(hash + 1 + length);
      }
      return packets;
    },
    reset: () => (buffer = ''),
  };
}

/**
 * One door's lane: a connection (reconnected when lost), a call every `1000 / perSecond` ms, figures.
 * `protocol` is `nest` (framed echo requests, replies matched by id) or `text` (lines, replies in order).
 */
function lane(host, port, protocol, perSecond) {
  const histogram = createHistogram();
  const figures = { sent: 0, ok: 0, failed: 0, failures: {}, connects: 0 };
  const pending = new Map(); // id -> { text, startedAt, timer }
  const framing = nestFraming();
  let socket;
  let connected = false;
  let next = 1;
  let stopped = false;
  let partial = '';

  const fail = (reason, call) => {
    figures.failed += 1;
    figures.failures[reason] = (figures.failures[reason] ?? 0) + 1;
    if (call) clearTimeout(call.timer);
  };
  const settle = (id, error) => {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (error) {
      fail(error, call);
      return;
    }
    clearTimeout(call.timer);
    histogram.record(Math.max(1, Math.round((performance.now() - call.startedAt) * 1000)));
    figures.ok += 1;
  };

  const onData = (chunk) => {
    if (protocol === 'nest') {
      for (const packet of framing.decode(chunk)) {
        const id = Number(packet.id);
        if (packet.err !== undefined && packet.err !== null) settle(id, 'error-reply');
        else if (packet.response !== undefined) settle(id, packet.response.text === pending.get(id)?.text ? undefined : 'wrong-reply');
      }
      return;
    }
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const [id, call] = pending.entries().next().value ?? [];
      if (call === undefined) continue; // a welcome or a notice, not a reply
      if (line === call.text) settle(id);
      else if (line.startsWith('ERR ')) settle(id, 'error-reply');
    }
  };

  const open = () => {
    if (stopped) return;
    framing.reset();
    partial = '';
    socket = connect({ host, port, noDelay: true });
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      try {
        onData(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.once('connect', () => {
      connected = true;
      figures.connects += 1;
    });
    socket.once('close', () => {
      connected = false;
      for (const id of [...pending.keys()]) settle(id, 'connection-lost');
      if (!stopped) setTimeout(open, RECONNECT_MS);
    });
  };

  const send = () => {
    const id = next++;
    const text = `wb-${protocol}-${id}`;
    figures.sent += 1;
    if (!connected) {
      fail('not-connected');
      return;
    }
    const timer = setTimeout(() => settle(id, 'timeout'), CALL_TIMEOUT_MS);
    pending.set(id, { text, startedAt: performance.now(), timer });
    socket.write(protocol === 'nest' ? framing.encode(id, text) : `${text}\n`);
  };

  open();
  const ticker = setInterval(send, 1000 / perSecond);
  return {
    /** Stops sending, waits for the calls in flight (each ends within CALL_TIMEOUT_MS), closes. */
    async stop() {
      clearInterval(ticker);
      const deadline = performance.now() + CALL_TIMEOUT_MS + 500;
      while (pending.size > 0 && performance.now() < deadline) await sleep(50);
      stopped = true;
      socket.destroy();
      const ms = (p) => (figures.ok > 0 ? histogram.percentile(p) / 1000 : null);
      return { ...figures, p50Ms: ms(50), p99Ms: ms(99), maxMs: figures.ok > 0 ? histogram.max / 1000 : null };
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs both lanes for `seconds` and resolves with their figures. */
async function runWellBehaved({ host, tcpPort, textPort, seconds, tcpPerSecond = 50, textPerSecond = 20 }) {
  const lanes = { tcp: lane(host, tcpPort, 'nest', tcpPerSecond), text: lane(host, textPort, 'text', textPerSecond) };
  await sleep(Math.min(seconds, MAX_SECONDS) * 1000);
  const [tcp, text] = await Promise.all([lanes.tcp.stop(), lanes.text.stop()]);
  return { seconds, tcp, text };
}

module.exports = { runWellBehaved };

if (require.main === module) {
  const [host, tcpPort, textPort, seconds, tcpPerSecond = '50', textPerSecond = '20'] = process.argv.slice(2);
  runWellBehaved({
    host,
    tcpPort: Number(tcpPort),
    textPort: Number(textPort),
    seconds: Number(seconds),
    tcpPerSecond: Number(tcpPerSecond),
    textPerSecond: Number(textPerSecond),
  }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
