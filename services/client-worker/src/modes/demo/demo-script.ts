import {
  buildMixedScriptText,
  Patterns,
  requestDatagramBytes,
  shortSha256,
  type CommandResponse,
  type EchoRequest,
} from '@echo-pair/common';
import {
  countsEverythingSent,
  echoes,
  isIsoTimestamp,
  isWelcome,
  listsKnownCommands,
  mentionsEveryCommand,
  namesField,
  outputIs,
  outputStartsWith,
  quote,
  sleptFor,
} from './demo-checks';
import { contractExampleSteps } from './contract-example-steps';
import { expectRejection, expectReply, type DemoStep, type StepContext, type Verdict } from './demo-step';

const MIB = 1024 * 1024;

export interface DemoScriptOptions {
  /** The client's datagram limit when it runs over UDP (`EchoClient.maxDatagramBytes`); the 1 MiB echo would not fit. */
  maxDatagramBytes?: number;
}

function echo(what: string, text: string): DemoStep {
  const shown = text.length <= 60 ? quote(text) : `(${Buffer.byteLength(text, 'utf8')} bytes, sha256 ${shortSha256(text)})`;
  return expectReply({ label: `echo ${what} ${shown}`, pattern: 'echo', call: (client) => client.echo({ text }), check: echoes(text) });
}

function command(name: string, args: string[], check: (reply: CommandResponse, context: StepContext) => Verdict): DemoStep {
  return expectReply({
    label: `command ${name} ${JSON.stringify(args)}`,
    pattern: 'command',
    command: name,
    call: (client) => client.command({ name, args }),
    check,
  });
}

function note(text: string): DemoStep {
  return expectReply({
    label: `note ${quote(text)}`,
    pattern: 'note',
    call: (client) => client.note({ text, author: 'client-worker demo' }),
    check: () => ({ ok: true, detail: 'sent (events get no reply; stats counts it below)' }),
  });
}

/** The longest mixed-script text (`buildMixedScriptText`) whose `echo` request fits one datagram of `maxDatagramBytes`. */
export function largestEchoTextFor(maxDatagramBytes: number): string {
  const fits = (text: string): boolean => requestDatagramBytes(Patterns.ECHO, { text }) <= maxDatagramBytes;
  const longer = (text: string): string => buildMixedScriptText(Buffer.byteLength(text, 'utf8') + 1);
  let text = buildMixedScriptText(1);
  for (let next = longer(text); fits(next); next = longer(next)) {
    text = next;
  }
  return text;
}

/** The large echo: 1 MiB over TCP; over UDP, as much as one datagram holds. */
function largeEcho(maxDatagramBytes: number | undefined): DemoStep {
  if (maxDatagramBytes === undefined) {
    return echo('1 MiB mixed script', buildMixedScriptText(MIB));
  }
  const limit = maxDatagramBytes % 1024 === 0 ? `${maxDatagramBytes / 1024} KiB` : `${maxDatagramBytes} bytes`;
  return echo(`largest that fits one datagram (${limit} limit)`, largestEchoTextFor(maxDatagramBytes));
}

/**
 * The demo session, in order. Each step says what it sends and what it expects back.
 * `stats` comes last, so that the note and every echo are surely counted by then.
 */
export function buildDemoScript({ maxDatagramBytes }: DemoScriptOptions = {}): DemoStep[] {
  const script = handWrittenSteps(maxDatagramBytes);
  const examples = contractExampleSteps(new Set(script.map((step) => step.pattern)));
  // `stats` comes last, so that it counts every step before it.
  const stats = command('stats', [], countsEverythingSent);
  return [...script, ...examples, stats];
}

function handWrittenSteps(maxDatagramBytes: number | undefined): DemoStep[] {
  return [
    expectReply({ label: 'hello', pattern: 'hello', call: (client) => client.hello({ client: 'client-worker demo' }), check: isWelcome }),
    echo('ASCII', 'Hello, world!'),
    echo('Chinese', '你好，世界'),
    echo('emoji', 'waves 👋🌍 and a ZWJ family 👨‍👩‍👧‍👦'),
    echo('Arabic (right to left)', 'مرحبا بالعالم'),
    largeEcho(maxDatagramBytes),
    note('the demo was here'),
    command('upper', ['hi'], outputIs('HI')),
    command('lower', ['Hello', 'WORLD'], outputIs('hello world')),
    command('reverse', ['abc 你好'], outputIs('好你 cba')),
    command('reverse', ['family', '👨‍👩‍👧‍👦', 'stays'], outputIs('syats 👨‍👩‍👧‍👦 ylimaf')),
    command('time', [], isIsoTimestamp),
    command('uptime', [], outputStartsWith('up ')),
    command('sleep', ['100'], sleptFor(100)),
    command('help', [], mentionsEveryCommand),
    expectRejection({
      label: 'echo with a number for text',
      pattern: 'echo',
      code: 'VALIDATION_FAILED',
      call: (client) => client.send(Patterns.ECHO, { text: 42 } as unknown as EchoRequest),
      check: namesField('text'),
    }),
    // A nod to the tutorials' remote shell, which this server never is.
    expectRejection({
      label: 'command rm ["-rf","/"]',
      pattern: 'command',
      code: 'UNKNOWN_COMMAND',
      call: (client) => client.command({ name: 'rm', args: ['-rf', '/'] }),
      check: listsKnownCommands,
    }),
    echo('on the same connection after the errors', 'still here ✔'),
  ];
}
