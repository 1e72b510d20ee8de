// Whether the server still answers on every door: an `echo` request on the Nest TCP port, a line on the text
// port, a datagram on the UDP port, and GET /healthz on the HTTP side port. Each within PROBE_TIMEOUT_MS.
const { connect } = require('node:net');
const { createSocket } = require('node:dgram');

const PROBE_TIMEOUT_MS = 5_000;

function bounded(what, executor) {
  return new Promise((resolve) => {
    let settled = false;
    const cleanups = [];
    const finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanups.forEach((cleanup) => cleanup());
      resolve(error === undefined ? 'ok' : `${what}: ${error}`);
    };
    const timer = setTimeout(() => finish(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    executor(finish, (cleanup) => cleanups.push(cleanup));
  });
}

/** Sends `payload` on a new connection and finishes once `accept(received)` holds. */
function tcpProbe(what, host, port, payload, accept) {
  return bounded(what, (finish, onEnd) => {
    const socket = connect({ host, port });
    onEnd(() => socket.destroy());
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      received += chunk;
      if (accept(received)) finish();
    });
    socket.on('error', (error) => finish(error.code ?? error.message));
    socket.on('close', () => finish(`closed after ${JSON.stringify(received.slice(0, 120))}`));
    socket.on('connect', () => socket.write(payload));
  });
}

function udpProbe(host, port) {
  return bounded('udp', (finish, onEnd) => {
    const socket = createSocket('udp4');
    onEnd(() => socket.close());
    socket.on('message', (message) => (message.toString().startsWith('probe-udp') ? finish() : undefined));
    socket.on('error', (error) => finish(error.code ?? error.message));
    socket.send('probe-udp\n', port, host);
  });
}

async function httpProbe(host, port) {
  try {
    const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok ? 'ok' : `http: /healthz answered ${response.status}`;
  } catch (error) {
    return `http: ${error.message}`;
  }
}

/** `{ tcp, text, udp, http }`: `ok` each, or what went wrong. */
async function probeDoors({ host, tcpPort, textPort, udpPort, httpPort }) {
  const json = JSON.stringify({ pattern: 'echo', data: { text: 'probe-tcp' }, id: 'probe' });
  const [tcp, text, udp, http] = await Promise.all([
    tcpProbe('tcp', host, tcpPort, `${json.length}#${json}`, (received) => received.includes('"text":"probe-tcp"')),
    tcpProbe('text', host, textPort, 'probe-text\n', (received) => received.split('\n').includes('probe-text')),
    udpProbe(host, udpPort),
    httpProbe(host, httpPort),
  ]);
  return { tcp, text, udp, http };
}

module.exports = { probeDoors };
