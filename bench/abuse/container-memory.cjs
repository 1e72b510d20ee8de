// What a container's memory and life looked like, read through the docker CLI (so that it works wherever
// `docker` does): the cgroup's usage, peak and limit (cgroup v2's memory.current/peak/max, or v1's
// memory.usage_in_bytes/max_usage_in_bytes/limit_in_bytes), its OOM kills (v2 memory.events, v1
// memory.oom_control), its CPU time, the RSS of the server's Node process (/proc/<pid>/status), and `docker inspect`'s
// restart count, start time and OOMKilled flag. A sampler reads usage and RSS every 250 ms, for the peak of
// one step (the cgroup's own peak covers the container's whole life) and where the kernel keeps no peak.
const { execFile, spawn } = require('node:child_process');

const CLI_TIMEOUT_MS = 30_000;
const SAMPLE_MS = 250;

/** Finds the server's Node process and the cgroup's files; sets pid, v, dir. Builtins only where it loops. */
const LOCATE = `
pid=; for d in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null); case "$c" in "node "*echo-server/dist/main.js*) pid=\${d#/proc/}; break;; esac; done
if [ -f /sys/fs/cgroup/memory.max ]; then v=2; dir=/sys/fs/cgroup; cur=memory.current; else v=1; dir=/sys/fs/cgroup/memory; cur=memory.usage_in_bytes; fi
rss() { r=0; h=0; while read k n u; do case "$k" in VmRSS:) r=$n;; VmHWM:) h=$n;; esac; done < /proc/$pid/status; }
`;

const READ = `${LOCATE}
if [ $v = 2 ]; then max=$(cat $dir/memory.max); peak=$(cat $dir/memory.peak 2>/dev/null || echo -); oom=$(grep '^oom_kill ' $dir/memory.events | cut -d' ' -f2)
else max=$(cat $dir/memory.limit_in_bytes); peak=$(cat $dir/memory.max_usage_in_bytes); oom=$(grep '^oom_kill ' $dir/memory.oom_control | cut -d' ' -f2); fi
if [ $v = 2 ]; then cpu=$(grep '^usage_usec ' $dir/cpu.stat | cut -d' ' -f2)000; else cpu=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || echo -); fi
rss; echo "v=$v current=$(cat $dir/$cur) max=$max peak=$peak oom=\${oom:--} pid=$pid rssKb=$r hwmKb=$h cpuNs=\${cpu:--}"
`;

function docker(args, timeoutMs = CLI_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.slice(0, 2).join(' ')} failed (${error.code ?? error.signal}): ${stderr.trim()}`));
      else resolve({ stdout, stderr });
    });
  });
}

const number = (text) => (text === undefined || text === '-' || text === 'max' || text === '' ? null : Number(text));

/** The cgroup's figures and the Node process's RSS, now. Bytes; `peakBytes` null when the kernel keeps none. */
async function readMemory(containerId) {
  const { stdout } = await docker(['exec', containerId, 'sh', '-c', READ]);
  const fields = Object.fromEntries(
    stdout
      .trim()
      .split(/\s+/)
      .map((field) => field.split('=')),
  );
  return {
    cgroupVersion: Number(fields.v),
    currentBytes: number(fields.current),
    peakBytes: number(fields.peak),
    // cgroup v1 writes "no limit" as a number near 2^63.
    limitBytes: number(fields.max) >= 2 ** 60 ? null : number(fields.max),
    oomKills: number(fields.oom),
    pid: number(fields.pid),
    rssBytes: number(fields.rssKb) * 1024,
    rssPeakBytes: number(fields.hwmKb) * 1024,
    /** CPU time the container has used (cgroup cpuacct.usage, or cpu.stat's usage_usec), in seconds. */
    cpuSeconds: number(fields.cpuNs) === null ? null : number(fields.cpuNs) / 1e9,
  };
}

/** `docker inspect`'s view: running, restarts, start time, OOMKilled, the memory limit it was given and its environment. */
async function inspectContainer(containerId) {
  const { stdout } = await docker(['inspect', containerId]);
  const [container] = JSON.parse(stdout);
  return {
    running: container.State.Running,
    restartCount: container.RestartCount,
    startedAt: container.State.StartedAt,
    oomKilled: container.State.OOMKilled,
    memoryLimitBytes: container.HostConfig.Memory || null,
    environment: Object.fromEntries(
      (container.Config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    ),
    networks: Object.keys(container.NetworkSettings.Networks ?? {}),
  };
}

/** How many lines the container logged between two instants (Dates). */
async function logLinesBetween(containerId, since, until) {
  const { stdout, stderr } = await docker(['logs', '--since', since.toISOString(), '--until', until.toISOString(), containerId]);
  const count = (text) => (text.length === 0 ? 0 : text.split('\n').filter((line) => line.length > 0).length);
  return count(stdout) + count(stderr);
}

/**
 * Samples the cgroup's usage and the Node process's RSS every SAMPLE_MS for at most `maxSeconds` (the loop
 * inside the container is bounded by count, so it ends even if this side goes away). `stop()` ends it.
 */
function startSampler(containerId, { maxSeconds }) {
  const count = Math.ceil((maxSeconds * 1000) / SAMPLE_MS);
  const script = `${LOCATE} i=0; while [ $i -lt ${count} ]; do read c < $dir/$cur; rss; echo "$c $r"; sleep ${SAMPLE_MS / 1000}; i=$((i+1)); done`;
  const child = spawn('docker', ['exec', containerId, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  const samples = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const [current, rssKb] = line.trim().split(' ').map(Number);
      if (Number.isFinite(current)) samples.push({ at: performance.now(), currentBytes: current, rssBytes: (rssKb || 0) * 1024 });
    }
  });
  const within = (from, to) => samples.filter((sample) => sample.at >= from && sample.at <= to);
  const max = (list, key) => (list.length === 0 ? null : Math.max(...list.map((sample) => sample[key])));
  return {
    samples,
    /** The newest sample, waiting up to a second for one taken after now. */
    async fresh() {
      const asked = performance.now();
      for (let waited = 0; waited < 1_000 && !(samples.at(-1)?.at > asked); waited += 50) await new Promise((r) => setTimeout(r, 50));
      return samples.at(-1) ?? null;
    },
    maxRssBetween: (from, to) => max(within(from, to), 'rssBytes'),
    maxCurrentBetween: (from, to) => max(within(from, to), 'currentBytes'),
    stop() {
      if (child.exitCode === null) child.kill();
    },
  };
}

/**
 * The container's `die` and `oom` events from now on (`docker events`), so that a restart says why: each
 * exit's code and whether the kernel's OOM killer acted. `stop()` ends the watch and returns them.
 */
function watchEvents(containerId) {
  const args = [
    'events',
    '--filter',
    `container=${containerId}`,
    '--filter',
    'event=die',
    '--filter',
    'event=oom',
    '--format',
    '{{json .}}',
  ];
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const events = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      try {
        const event = JSON.parse(line);
        events.push({
          event: event.status ?? event.Action,
          exitCode: event.Actor?.Attributes?.exitCode ?? null,
          at: new Date(event.time * 1000).toISOString(),
        });
      } catch {
        // not an event line
      }
    }
  });
  return {
    events,
    stop() {
      if (child.exitCode === null) child.kill();
      return events;
    },
  };
}

module.exports = { docker, readMemory, inspectContainer, logLinesBetween, startSampler, watchEvents };
