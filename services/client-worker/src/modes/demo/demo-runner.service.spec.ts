import { buildMixedScriptText, requestDatagramBytes, type EchoRequest } from '@echo-pair/common';
import { CapturedOutput } from '../../testing/captured-output';
import { FakeEchoClient } from '../../testing/fake-echo-client';
import { DemoRunner } from './demo-runner.service';
import { buildDemoScript } from './demo-script';

describe('DemoRunner', () => {
  let client: FakeEchoClient;
  let output: CapturedOutput;
  let runner: DemoRunner;

  beforeEach(() => {
    client = new FakeEchoClient();
    // The demo times each call; `sleep 100` moves this clock by 100 ms instead of waiting.
    client.clock.install();
    output = new CapturedOutput();
    runner = new DemoRunner(client.asEchoClient(), output);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const stepLines = (): string[] => output.lines.filter((line) => /^[✔✘] /.test(line));

  it('passes every step against a server that answers as the contract says', async () => {
    const code = await runner.run(client.helloReply());

    expect(stepLines().filter((line) => line.startsWith('✘'))).toEqual([]);
    expect(stepLines().length).toBeGreaterThanOrEqual(18);
    expect(code).toBe(0);
    expect(output.lines).toContainEqual(expect.stringMatching(/^summary: (\d+) calls, \1 passed, 0 failed, total \d+\.\d ms$/));
  });

  it('shows latency with one decimal and what was checked on each line', async () => {
    await runner.run(client.helloReply());

    expect(output.lines).toContainEqual(
      expect.stringMatching(/^✔ +\d+\.\d ms {2}echo Chinese "你好，世界" — byte-identical, 15 bytes, 5 code units, 5 code points$/),
    );
    expect(output.lines).toContainEqual(
      expect.stringMatching(/^✔ .* echo 1 MiB mixed script \(\d{7} bytes, sha256 [0-9a-f]{12}\) — byte-identical/),
    );
    expect(output.lines).toContainEqual(
      expect.stringMatching(/^✔ +100\.0 ms {2}command sleep \["100"\] — output "slept 100 ms", took ≥ 100 ms$/),
    );
  });

  it('prints the envelopes of the expected errors', async () => {
    await runner.run(client.helloReply());

    expect(output.lines).toContainEqual(expect.stringMatching(/^✔ .*echo with a number for text — VALIDATION_FAILED, names field "text"/));
    expect(output.lines).toContainEqual(expect.stringMatching(/^ +envelope \{"code":"VALIDATION_FAILED",/));
    expect(output.lines).toContainEqual(expect.stringMatching(/^ +envelope \{"code":"UNKNOWN_COMMAND",.*"knownCommands":\["upper",/));
  });

  it('sends the note before stats, and checks stats last', async () => {
    await runner.run(client.helloReply());

    const patterns = client.calls.map((call) => call.pattern);
    expect(patterns.indexOf('note')).toBeGreaterThan(-1);
    expect(client.calls.at(-1)).toEqual({ pattern: 'command', payload: { name: 'stats', args: [] } });
    expect(stepLines().at(-1)).toMatch(/command stats \[\] — ServerStats counts echo 7 \(demo sent 7\), note 1 \(demo sent 1\)/);
  });

  it('fails with a ✘ line when one reply is wrong', async () => {
    client.commands.upper = (args) => args.join(' ');

    const code = await runner.run(client.helloReply());

    expect(code).not.toBe(0);
    expect(stepLines().filter((line) => line.startsWith('✘'))).toEqual([
      expect.stringMatching(/^✘ .*command upper \["hi"\] — expected "HI", got "hi"$/),
    ]);
    expect(output.lines).toContainEqual(expect.stringMatching(/^summary: (\d+) calls, \d+ passed, 1 failed/));
  });

  it('fails when an echo comes back altered', async () => {
    client.echoText = (text) => (text.includes('你好') ? text.normalize('NFD').replace('你', '妳') : text);

    expect(await runner.run(client.helloReply())).toBe(1);
    expect(stepLines()).toContainEqual(expect.stringMatching(/^✘ .*echo Chinese .* — text differs/));
  });

  it('fails when an expected error does not come', async () => {
    client.commands.rm = () => 'removed everything';

    expect(await runner.run(client.helloReply())).toBe(1);
    expect(stepLines()).toContainEqual(expect.stringMatching(/^✘ .*command rm \["-rf","\/"\] — expected UNKNOWN_COMMAND, got a reply$/));
  });

  it('fails when sleep replies before its time', async () => {
    client.commands.sleep = ([ms]) => `slept ${ms} ms`;

    expect(await runner.run(client.helloReply())).toBe(1);
    expect(stepLines()).toContainEqual(
      expect.stringMatching(/^✘ +0\.0 ms {2}command sleep \["100"\] — replied after 0\.0 ms, before 100 ms had passed$/),
    );
  });

  it('fails when stats did not count the note', async () => {
    client.note = async () => {};

    expect(await runner.run(client.helloReply())).toBe(1);
    expect(stepLines().at(-1)).toMatch(/^✘ .*command stats .*counts echo 7 and note 0, fewer than the demo sent \(7 and 1\)$/);
  });

  it('reports the commands it has no expectation for as not exercised, not failed', async () => {
    client.commands.shout = (args) => `${args.join(' ')}!`;

    const code = await runner.run(client.helloReply());
    expect(output.lines.filter((line) => line.startsWith('✘'))).toEqual([]);
    expect(code).toBe(0);
    expect(output.lines).toContain('not exercised: shout (listed by the server; the demo has no expectation for them)');
  });

  describe('over UDP', () => {
    beforeEach(() => {
      // What `EchoClient.maxDatagramBytes` says of a client over UDP.
      Object.defineProperty(client, 'maxDatagramBytes', { value: 16_384 });
    });

    it('echoes the largest mixed-script text that fits one datagram instead of 1 MiB', async () => {
      expect(await runner.run(client.helloReply())).toBe(0);

      expect(output.lines).toContainEqual(
        expect.stringMatching(
          /^✔ .* echo largest that fits one datagram \(16 KiB limit\) \(\d{5} bytes, sha256 [0-9a-f]{12}\) — byte-identical/,
        ),
      );
      expect(output.lines.filter((line) => line.includes('1 MiB'))).toEqual([]);
      const texts = client.calls.filter((call) => call.pattern === 'echo').map((call) => (call.payload as EchoRequest).text);
      const largest = texts.reduce((longest, text) => (text.length > longest.length ? text : longest));
      expect(requestDatagramBytes('echo', { text: largest })).toBeLessThanOrEqual(16_384);
      expect(requestDatagramBytes('echo', { text: buildMixedScriptText(Buffer.byteLength(largest) + 1) })).toBeGreaterThan(16_384);
    });

    it('makes as many calls as over TCP, so that stats counts the same', () => {
      expect(buildDemoScript({ maxDatagramBytes: 16_384 }).map((step) => step.pattern)).toEqual(
        buildDemoScript().map((step) => step.pattern),
      );
    });

    it('gives a limit that is not whole KiB in bytes', () => {
      expect(buildDemoScript({ maxDatagramBytes: 9_000 }).map((step) => step.label)).toContainEqual(
        expect.stringMatching(/^echo largest that fits one datagram \(9000 bytes limit\) \(\d{4} bytes, /),
      );
    });
  });
});
