import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PeerSet } from './support/line-peer';
import { REPO_ROOT } from './support/run-process';

/**
 * docs/add-a-pattern.md, as printed: its code blocks are applied to a copy of the tree (the
 * convention is the page's first paragraph), its `sh run` commands run there (build, API report,
 * lint, unit tests), and the server built from the copy answers `sum` (and `count`) on TCP, the
 * text gateway and UDP, including the page's own `nc` transcript. Edit the recipe and this follows.
 */
const RECIPE = 'docs/add-a-pattern.md';
/** Commands the recipe must list: what a pattern needs to pass CI. */
const REQUIRED_COMMANDS = ['npm run build', 'npm run api:report', 'npm run contract:asyncapi', 'npm run lint', 'npm run test:unit'];
/** Bound of each command of the recipe (lint and the unit tests take about a minute each). */
const COMMAND_MS = 240_000;
const COPY_MS = 60_000;
const CALL_MS = 5_000;

interface Block {
  /** 1-based line of the opening fence in the page. */
  readonly line: number;
  /** The heading the block is under, e.g. "4. The contract entry". */
  readonly step: string;
  readonly lang: string;
  readonly attributes: Record<string, string>;
  readonly body: string[];
}

/** Where a block is, for messages: `docs/add-a-pattern.md:88 (step "4. The contract entry")`. */
function where(block: Block): string {
  return `${RECIPE}:${block.line} (step "${block.step}")`;
}

/** `key=value`, `key="JSON string"` or a bare flag, after the fence's language. */
function parseAttributes(info: string, line: number): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /\s*([a-z]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]+))?/y;
  let rest = info;
  while (rest.trim() !== '') {
    pattern.lastIndex = 0;
    const match = pattern.exec(rest);
    if (match === null) {
      throw new Error(`${RECIPE}:${line}: cannot read the fence's attributes at ${JSON.stringify(rest)}`);
    }
    const [whole, key, raw] = match;
    attributes[key] = raw === undefined ? '' : raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    rest = rest.slice(whole.length);
  }
  return attributes;
}

function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let step = '(top)';
  for (let at = 0; at < lines.length; at++) {
    const heading = /^#+\s+(.*)$/.exec(lines[at]);
    if (heading !== null) {
      step = heading[1];
      continue;
    }
    const fence = /^```(\S*)(.*)$/.exec(lines[at]);
    if (fence === null) {
      continue;
    }
    const end = lines.indexOf('```', at + 1);
    if (end < 0) {
      throw new Error(`${RECIPE}:${at + 1}: code block never closed`);
    }
    blocks.push({ line: at + 1, step, lang: fence[1], attributes: parseAttributes(fence[2], at + 1), body: lines.slice(at + 1, end) });
    at = end;
  }
  return blocks;
}

const blocks = parseBlocks(readFileSync(join(REPO_ROOT, RECIPE), 'utf8'));
const fileBlocks = blocks.filter((block) => 'file' in block.attributes || 'edit' in block.attributes);
const commands = blocks.filter((block) => 'run' in block.attributes).flatMap((block) => block.body.map((command) => ({ command, block })));
const runnable = commands.filter(({ command }) => command.trim() !== '' && !command.trim().startsWith('#'));

/** Applies one `file=` or `edit=` block to the copy; throws naming the block. */
function apply(copy: string, block: Block): void {
  const { file, edit, after, before, replace } = block.attributes;
  if (file !== undefined) {
    const path = join(copy, file);
    if (existsSync(path)) {
      throw new Error(`${where(block)}: file=${file} is a new file, but the tree has it already`);
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${block.body.join('\n')}\n`);
    return;
  }
  const modes = [after, before, replace].filter((anchor) => anchor !== undefined);
  if (modes.length !== 1) {
    throw new Error(`${where(block)}: edit=${edit} needs exactly one of after="…", before="…", replace="…"`);
  }
  const path = join(copy, edit);
  if (!existsSync(path)) {
    throw new Error(`${where(block)}: edit=${edit}: no such file in the tree`);
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  const anchor = modes[0].split('\n');
  const found = lines.flatMap((_, at) => (anchor.every((anchorLine, k) => lines[at + k] === anchorLine) ? [at] : []));
  if (found.length !== 1) {
    throw new Error(`${where(block)}: the anchor ${JSON.stringify(modes[0])} occurs ${found.length} times in ${edit}, not once`);
  }
  const at = found[0];
  if (after !== undefined) {
    lines.splice(at + anchor.length, 0, ...block.body);
  } else if (before !== undefined) {
    lines.splice(at, 0, ...block.body);
  } else {
    lines.splice(at, anchor.length, ...block.body);
  }
  writeFileSync(path, lines.join('\n'));
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

interface Started {
  readonly result: Promise<Finished>;
  output(): string;
  /** The first output line matching `pattern`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  kill(): Promise<void>;
}

const started = new Set<Started>();

/** Runs `bash -c command` in `cwd` as its own process group, killed with everything it started after `timeoutMs`. */
function startShell(command: string, cwd: string, env: Record<string, string>, timeoutMs: number): Started {
  const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let timedOut = false;
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    listeners.forEach((listener) => listener());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const result = new Promise<Finished>((resolve) => {
    child.once('error', (error) => {
      output += String(error);
      resolve({ code: null, signal: null, output, timedOut });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, signal, output, timedOut });
    });
  });
  const process_: Started = {
    result,
    output: () => output,
    waitFor: (pattern, waitMs) =>
      new Promise((resolve, reject) => {
        const finish = (action: () => void) => {
          clearTimeout(deadline);
          listeners.delete(look);
          action();
        };
        const look = () => {
          for (const line of output.split('\n')) {
            const match = pattern.exec(line);
            if (match !== null) {
              finish(() => resolve(match));
              return;
            }
          }
        };
        const deadline = setTimeout(
          () => finish(() => reject(new Error(`nothing matched ${pattern} within ${waitMs} ms:\n${output}`))),
          waitMs,
        );
        listeners.add(look);
        void result.then(({ code }) => finish(() => reject(new Error(`exited (${code}) before printing ${pattern}:\n${output}`))));
        look();
      }),
    kill: async () => {
      killGroup();
      await result;
    },
  };
  started.add(process_);
  void result.then(() => started.delete(process_));
  return process_;
}

/** A clean environment: Jest's own variables must not reach the Jest the recipe runs. */
function shellEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? tmpdir(),
    NO_COLOR: '1',
    ...extra,
  };
}

/** The recipe's files named in a command's output, with the block that wrote them. */
function recipeFilesIn(output: string): string {
  const named = fileBlocks.filter((block) => output.includes(block.attributes.file ?? block.attributes.edit));
  return named.length === 0
    ? ''
    : `\nthe recipe's files in this output: ${named.map((block) => `${block.attributes.file ?? block.attributes.edit} (${where(block)})`).join(', ')}`;
}

/** One request over TCP as a raw frame (`<length>#<json>`); resolves with the reply packet. */
function callTcp(port: number, pattern: string, data: unknown): Promise<{ response?: unknown; err?: { code: string; details?: unknown } }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const json = JSON.stringify({ pattern, data, id: '1' });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to "${pattern}" within ${CALL_MS} ms; received ${JSON.stringify(received)}`));
    }, CALL_MS);
    socket.setEncoding('utf8');
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const header = /^(\d+)#/.exec(received);
      if (header !== null && received.length >= header[0].length + Number(header[1])) {
        clearTimeout(timer);
        socket.destroy();
        resolve(JSON.parse(received.slice(header[0].length, header[0].length + Number(header[1]))) as never);
      }
    });
    socket.write(`${json.length}#${json}`);
  });
}

describe(`the recipe of ${RECIPE}, applied to a copy of the tree`, () => {
  let copy: string;
  /** The first step that failed: later steps do not run after it. */
  let failed: string | undefined;

  /** Runs a step, recording its failure so that later steps say which one broke. */
  async function step(name: string, body: () => Promise<void> | void): Promise<void> {
    if (failed !== undefined) {
      throw new Error(`not run: an earlier step failed (${failed})`);
    }
    try {
      await body();
    } catch (error) {
      failed = name;
      throw error;
    }
  }

  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), 'docs-recipe-'));
    // Tracked and untracked-not-ignored files, like scripts/check-removable.sh, then a real copy of
    // node_modules: its workspace links (@echo-pair/*) are relative, so they point into the copy.
    const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (listed.status !== 0) {
      throw new Error(`git ls-files failed in ${REPO_ROOT}: ${listed.stderr}`);
    }
    const files = listed.stdout
      .split('\0')
      .filter((path) => path !== '' && !path.startsWith('node_modules/') && existsSync(join(REPO_ROOT, path)));
    const copied = await startShell(
      `tar -C "$ROOT" --null -T - -c < "$LIST" | tar -C "$COPY" -x && cp -a "$ROOT/node_modules" "$COPY/"`,
      REPO_ROOT,
      shellEnvironment({ ROOT: REPO_ROOT, COPY: copy, LIST: writeList(copy, files) }),
      COPY_MS,
    ).result;
    if (copied.code !== 0) {
      throw new Error(`copying the tree to ${copy} failed (code ${copied.code}, timed out ${copied.timedOut}):\n${copied.output}`);
    }
  }, COPY_MS + 10_000);

  afterAll(async () => {
    await Promise.all([...started].map((process_) => process_.kill()));
    if (copy !== undefined) {
      rmSync(copy, { recursive: true, force: true });
      rmSync(`${copy}.files`, { force: true });
    }
  }, 60_000);

  it('has file blocks, edit blocks and the commands CI needs', () =>
    step('reading the recipe', () => {
      expect(fileBlocks.filter((block) => 'file' in block.attributes).length).toBeGreaterThan(0);
      expect(fileBlocks.filter((block) => 'edit' in block.attributes).length).toBeGreaterThan(0);
      const missing = REQUIRED_COMMANDS.filter((required) => !runnable.some(({ command }) => command.trim() === required));
      if (missing.length > 0) {
        throw new Error(`${RECIPE}: its "sh run" blocks lack ${missing.join(', ')}`);
      }
    }));

  it('applies every file and edit block', () =>
    step('applying the blocks', () => {
      fileBlocks.forEach((block) => apply(copy, block));
    }));

  it.each(runnable.map(({ command, block }) => [command, block] as const))(
    'runs "%s" in the copy',
    (command, block) =>
      step(`"${command}" (${where(block)})`, async () => {
        const result = await startShell(command, copy, shellEnvironment(), COMMAND_MS).result;
        if (result.code !== 0) {
          const tail = result.output.trimEnd().split('\n').slice(-80).join('\n');
          throw new Error(
            `${where(block)}: "${command}" failed in the copy (code ${result.code}, signal ${result.signal}, timed out ${result.timedOut})` +
              `${recipeFilesIn(result.output)}\n--- its last lines:\n${tail}`,
          );
        }
      }),
    COMMAND_MS + 10_000,
  );

  describe('the server built from the copy', () => {
    let server: Started | undefined;
    let ports: { tcp: number; text: number; udp: number };
    const peers = new PeerSet();

    beforeAll(async () => {
      if (failed !== undefined) {
        return;
      }
      server = startShell(
        'exec node services/echo-server/dist/main.js',
        copy,
        shellEnvironment({
          ECHO_HOST: '127.0.0.1',
          ECHO_PORT: '0',
          TEXT_PORT: '0',
          UDP_PORT: '0',
          METRICS_PORT: '0',
          VALIDATE_RESPONSES: 'true',
          LOG_LEVEL: 'log',
        }),
        120_000,
      );
      const port = async (pattern: RegExp) => Number((await server!.waitFor(pattern, 20_000))[1]);
      ports = {
        tcp: await port(/listening on 127\.0\.0\.1:(\d+) /),
        text: await port(/text gateway on 127\.0\.0\.1:(\d+) /),
        udp: await port(/UDP on 127\.0\.0\.1:(\d+) /),
      };
    }, 30_000);

    afterEach(() => peers.destroyAll());

    afterAll(async () => {
      await server?.kill();
    });

    /** One line to the text gateway, its one reply line. */
    async function askText(line: string): Promise<string> {
      const peer = await peers.connect(ports.text);
      await peer.send(line);
      return peer.readLine(CALL_MS);
    }

    /** One UDP datagram, padded like call-doors' so that an error reply fits the 3x bound; its reply line. */
    async function askUdp(line: string): Promise<string> {
      const peer = await peers.datagram(ports.udp);
      await peer.send(line.padEnd(600, ' '));
      return (await peer.reply(CALL_MS)).toString('utf8').trimEnd();
    }

    it('answers sum over TCP, and refuses 1,001 numbers and an overflowing total', () =>
      step('sum over TCP', async () => {
        expect(await callTcp(ports.tcp, 'sum', { numbers: [1, 2, 3] })).toMatchObject({ response: { total: 6 } });
        const tooMany = await callTcp(ports.tcp, 'sum', { numbers: Array.from({ length: 1001 }, () => 1) });
        expect(tooMany.err).toMatchObject({ code: 'VALIDATION_FAILED', details: { violations: [{ field: 'numbers' }] } });
        const overflow = await callTcp(ports.tcp, 'sum', { numbers: [1e308, 1e308] });
        expect(overflow.err).toMatchObject({ code: 'INVALID_RESPONSE', details: { pattern: 'sum', violations: [{ field: 'total' }] } });
      }));

    it('answers sum on the text gateway and UDP, and refuses a string', () =>
      step('sum on the text gateway and UDP', async () => {
        expect(await askText('/call sum {"numbers":[1,2,3]}')).toBe('{"total":6}');
        expect(await askUdp('/call sum {"numbers":[1,2,3]}')).toBe('{"total":6}');
        expect(await askText('/call sum {"numbers":"1,2,3"}')).toMatch(/^ERR VALIDATION_FAILED /);
        expect(await askUdp('/call sum {"numbers":[1,"2"]}')).toMatch(/^ERR VALIDATION_FAILED /);
      }));

    it('runs the count command', () =>
      step('the count command', async () => {
        expect(await callTcp(ports.tcp, 'command', { name: 'count', args: ['a', 'b', 'c'] })).toMatchObject({ response: { output: '3' } });
        expect(await askText('/count a b c')).toBe('3');
      }));

    it("prints what the page's nc transcript shows", () =>
      step('the nc transcript', async () => {
        const transcript = blocks
          .filter((block) => block.lang === 'bash')
          .flatMap((block) =>
            block.body.flatMap((line, at) => {
              const sent = /^\$ printf '(.*)\\n' \| nc -q1 127\.0\.0\.1 3001$/.exec(line);
              return sent === null ? [] : [{ block, sent: sent[1], expected: block.body[at + 1] }];
            }),
          );
        expect(transcript.length).toBeGreaterThan(0);
        for (const { block, sent, expected } of transcript) {
          const reply = await askText(sent);
          if (reply !== expected) {
            throw new Error(`${where(block)}: "${sent}" answers ${JSON.stringify(reply)}, the page says ${JSON.stringify(expected)}`);
          }
        }
      }));
  });
});

/** The NUL-separated list of files to copy, beside the copy (tar reads it). */
function writeList(copy: string, files: string[]): string {
  const path = `${copy}.files`;
  writeFileSync(path, files.join('\0'));
  return path;
}
