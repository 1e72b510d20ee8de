// The table of an abuse run (abuse-run.cjs) in Markdown: the well-behaved calls with and without abuse, the
// container's peak memory against its limit, OOM kills and restarts, and for each attack its bound and the
// measured figure. Written under bench/results/ (ignored by git) by writeReport.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** The bounds the server promises; a setting in the container's environment overrides its default here. */
const SETTING_DEFAULTS = {
  MAX_CONNECTIONS_PER_ADDRESS: '256',
  INCOMPLETE_MESSAGE_TIMEOUT_MS: '10000',
  TEXT_LINE_TIMEOUT_MS: '30000',
  MAX_SEND_BUFFER_BYTES: '67108864',
  CHAT_STALL_MS: '30000',
  CHAT_MAX_BACKLOG_BYTES: '16777216',
};
/** Most an abusive connection may grow the server's RSS by. */
const RSS_BOUND_BYTES = 64 * 1024 * 1024;

const mib = (bytes) => (bytes === null || bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const ms = (value) => (value === null || value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(0));
const closed = (figures, total) =>
  `${figures.closedByServer} of ${total} closed by the server${figures.maxSecondsToClose === null ? '' : ` (the last after ${figures.maxSecondsToClose} s)`}, ${figures.openAtEnd} still open`;

function wellBehavedRows({ baseline, underAbuse }) {
  const rows = [];
  for (const [phase, run] of [
    ['without abuse', baseline],
    ['with abuse', underAbuse],
  ]) {
    for (const [door, lane] of [
      ['Nest TCP', run.tcp],
      ['text', run.text],
    ]) {
      const reasons = Object.entries(lane.failures).map(([reason, count]) => `${reason} ${count}`);
      rows.push(
        `| ${phase} (${run.seconds} s) | ${door} | ${lane.sent} | ${lane.ok} | ${lane.failed}${reasons.length ? ` (${reasons.join(', ')})` : ''} | ${ms(lane.p50Ms)} | ${ms(lane.p99Ms)} | ${ms(lane.maxMs)} |`,
      );
    }
  }
  return rows;
}

function attackRows({ attacks, single, openConnections }, setting) {
  const { longText, longNest, floodText, floodNest, chat, udp, connections } = attacks;
  const rows = [
    [
      `long lines, no newline (${longText.attempted} × ${mib(longText.bytesSent / Math.max(1, longText.attempted))}, text)`,
      `a line completes within TEXT_LINE_TIMEOUT_MS (${setting('TEXT_LINE_TIMEOUT_MS')}) of its first byte, else the connection is closed`,
      `${mib(longText.bytesSent)} sent; ${closed(longText, longText.attempted)}`,
    ],
    [
      `unfinished 8 MiB frames (${longNest.attempted}, Nest)`,
      `closed INCOMPLETE_MESSAGE_TIMEOUT_MS (${setting('INCOMPLETE_MESSAGE_TIMEOUT_MS')}) after the frame's first byte`,
      `${mib(longNest.bytesSent)} sent; ${closed(longNest, longNest.attempted)}`,
    ],
    [
      `floods, replies unread (${floodText.attempted}, text)`,
      'a peer that leaves its replies unread is paused (flow control): the server stops reading it',
      `${mib(floodText.bytesSent)} sent; ${closed(floodText, floodText.attempted)}`,
    ],
    [
      `floods, replies unread (${floodNest.attempted}, Nest)`,
      `replies wait up to MAX_SEND_BUFFER_BYTES (${setting('MAX_SEND_BUFFER_BYTES')}) a connection`,
      `${mib(floodNest.bytesSent)} sent; ${closed(floodNest, floodNest.attempted)}`,
    ],
    [
      `${connections.text.attempted} silent connections (text)`,
      `at most MAX_CONNECTIONS_PER_ADDRESS (${setting('MAX_CONNECTIONS_PER_ADDRESS')}) per door and address; each refused one gets \`ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS\``,
      `the server's peak of open text connections, every address: ${openConnections.peak.text ?? '-'}; the flood's own: ${connections.text.openAtEnd} open at the end (${connections.text.silentAtEnd} without a byte: not accepted yet); ${connections.text.refusedWithLine} refused with the line, ${connections.text.closedWithoutLine} closed without a line, ${connections.text.connectFailed} not connected`,
    ],
    [
      `${connections.tcp.attempted} silent connections (Nest)`,
      `at most MAX_CONNECTIONS_PER_ADDRESS (${setting('MAX_CONNECTIONS_PER_ADDRESS')}) per door and address; refused ones closed`,
      `the server's peak of open Nest connections, every address: ${openConnections.peak.tcp ?? '-'}; the flood's own: ${connections.tcp.openAtEnd} open at the end, ${connections.tcp.closedByServer} closed by the server, ${connections.tcp.connectFailed} not connected`,
    ],
    [
      `drippers, 1 byte/s (${connections.textDrippers.attempted} text, ${connections.tcpDrippers.attempted} Nest)`,
      `Nest: closed within INCOMPLETE_MESSAGE_TIMEOUT_MS; text: a byte a second is a message a second (the idle flush takes each pause of TEXT_IDLE_FLUSH_MS as a line's end, and answers it), so it stays, holding a slot of its address's share and the first to go at the cap after the silent`,
      `text: ${closed(connections.textDrippers, connections.textDrippers.attempted)}; Nest: ${closed(connections.tcpDrippers, connections.tcpDrippers.attempted)}`,
    ],
    [
      `chat flood (${chat.flooders.attempted} flooders, 1 reader, ${chat.slowReaders.attempted} never reading)`,
      `a reading member holds the senders back and stays; one that reads nothing is cut after CHAT_STALL_MS (${setting('CHAT_STALL_MS')}), or at once past CHAT_MAX_BACKLOG_BYTES (${setting('CHAT_MAX_BACKLOG_BYTES')})`,
      `flooders sent ${chat.linesSent} lines (${chat.sendMiBPerSecond} MiB/s), ${chat.flooders.closedByServer} closed; the reader got ${chat.reader.linesReceived} lines, ${chat.reader.openAtEnd === 1 ? 'still connected' : 'cut'}; never reading: ${closed(chat.slowReaders, chat.slowReaders.attempted)} as they see it (a peer that reads nothing cannot see its close), ${openConnections.chatCutOff ?? '-'} cut off as the server counts`,
    ],
    [
      `UDP flood (${udp.sockets} sockets, 1 B to 65,000 B)`,
      'every reply at most 3 × its request (28-byte headers counted)',
      `${udp.sent} datagrams (${mib(udp.bytesSent)}) sent, ${udp.replies} replies (${mib(udp.replyBytes)}): replies/requests ${udp.replyToRequestRatio}`,
    ],
  ];
  if (single.length > 0) {
    const worst = single.reduce((max, step) => Math.max(max, step.growthBytes ?? 0), 0);
    rows.push([
      'one connection of each kind (below)',
      `the server's RSS grows by at most ${mib(RSS_BOUND_BYTES)}`,
      `at most +${mib(worst)} (${single.map((step) => `${step.kind} +${mib(step.growthBytes)}`).join('; ')})`,
    ]);
  }
  return rows.map((cells) => `| ${cells.join(' | ')} |`);
}

/** The whole report as Markdown. `title` heads it (`Soak, 600 s`, `Abuse suite`). */
function formatReport(report, title) {
  const setting = (name) => report.environment?.[name] ?? SETTING_DEFAULTS[name];
  const { memory, restarts, doors } = report;
  const percent = memory.limitBytes ? `${((100 * memory.peakBytes) / memory.limitBytes).toFixed(0)} %` : '-';
  const lines = [
    `## ${title}`,
    '',
    `${new Date().toISOString()}; CPU ${report.cpu}; well-behaved load alone ${report.baselineSeconds} s, then every attack with it ${report.abuseSeconds} s; cgroup v${memory.cgroupVersion}.`,
    '',
    '| phase | door | sent | ok | failed | p50 ms | p99 ms | max ms |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...wellBehavedRows(report.wellBehaved),
    '',
    '| peak memory | limit | peak / limit | peak during abuse | Node RSS peak | OOM kills | restarts | doors after |',
    '| ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    `| ${mib(memory.peakBytes)} (${memory.peakSource}) | ${mib(memory.limitBytes)} | ${percent} | ${mib(memory.peakDuringAbuseBytes)} | ${mib(memory.rssPeakBytes)} | ${memory.oomKills ?? '-'} (OOMKilled ${memory.oomKilled}) | ${restarts.restartCount}${restarts.sameStart && restarts.samePid ? ' (same start, same process)' : ` (started again${restarts.events.map(({ event, exitCode }) => `; ${event}${exitCode === null ? '' : ` ${exitCode}`}`).join('')})`} | ${Object.entries(
      doors,
    )
      .map(([door, outcome]) => `${door} ${outcome}`)
      .join(', ')} |`,
    '',
    `During the abuse the server's container used ${report.cpuDuringAbuse.serverPercent ?? '-'} % of one CPU, the attackers (one Node process) ${report.cpuDuringAbuse.attackersPercent} %; the server logged ${report.logLinesDuringAbuse} lines.`,
    '',
    '| attack | bound | measured |',
    '| --- | --- | --- |',
    ...attackRows(report, setting),
  ];
  if (report.single.length > 0) {
    lines.push('', '| one connection | RSS before | RSS peak | growth | bound |', '| --- | ---: | ---: | ---: | ---: |');
    for (const step of report.single) {
      lines.push(
        `| ${step.kind} | ${mib(step.rssBeforeBytes)} | ${mib(step.rssPeakBytes)} | ${mib(step.growthBytes)} | ${mib(RSS_BOUND_BYTES)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `markdown` to bench/results/<prefix>-<timestamp>.md (and the figures beside it as JSON); returns the path. */
function writeReport(repoRoot, prefix, markdown, report) {
  const directory = join(repoRoot, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(directory, `${prefix}-${stamp}.md`);
  writeFileSync(path, markdown);
  writeFileSync(path.replace(/\.md$/, '.json'), `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

module.exports = { formatReport, writeReport, RSS_BOUND_BYTES };
