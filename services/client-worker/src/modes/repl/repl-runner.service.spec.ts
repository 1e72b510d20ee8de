import { Readable } from 'node:stream';
import { CapturedOutput } from '../../testing/captured-output';
import { FakeEchoClient } from '../../testing/fake-echo-client';
import { ReplRunner } from './repl-runner.service';

describe('ReplRunner', () => {
  let client: FakeEchoClient;
  let output: CapturedOutput;

  beforeEach(() => {
    client = new FakeEchoClient();
    output = new CapturedOutput();
  });

  const run = (...chunks: string[]): Promise<number> => new ReplRunner(client.asEchoClient(), output, Readable.from(chunks)).run();

  it('echoes lines, runs commands and stops at quit', async () => {
    const code = await run('hello\n/upper hi\nquit\nnot sent\n');

    expect(code).toBe(0);
    expect(output.lines).toEqual([
      expect.stringMatching(/^< hello {2}\(echo, 5 bytes, \d+\.\d ms\)$/),
      expect.stringMatching(/^< HI {2}\(upper, \d+\.\d ms\)$/),
      'bye',
    ]);
    expect(client.calls.map((call) => call.payload)).toEqual([{ text: 'hello' }, { name: 'upper', args: ['hi'] }]);
  });

  it('ends at the end of the input, without a prompt when the input is no terminal', async () => {
    expect(await run('你好\r\n', '/reverse "abc 你好"')).toBe(0);

    expect(output.transcript.text()).not.toContain('> ');
    expect(output.lines).toEqual([
      expect.stringMatching(/^< 你好 {2}\(echo, 6 bytes/),
      expect.stringMatching(/^< 好你 cba {2}\(reverse,/),
      'bye',
    ]);
  });

  it('reports errors with their details and goes on', async () => {
    expect(await run('/rm -rf /\n/upper "open\n\n/time\nexit\n')).toBe(0);

    expect(output.lines).toEqual([
      'error UNKNOWN_COMMAND: unknown command "rm"',
      '  known commands: upper, lower, reverse, time, uptime, sleep, help, stats',
      'error: unterminated double quote',
      expect.stringMatching(/^< \d{4}-\d\d-\d\dT.*Z {2}\(time, /),
      'bye',
    ]);
  });

  it('prints a multi-line reply line by line', async () => {
    await run('/help\n');

    const help = output.lines.filter((line) => line.startsWith('< '));
    expect(help).toHaveLength(8);
    expect(output.lines.at(-2)).toMatch(/^ {2}\(help, \d+\.\d ms\)$/);
  });

  it('handles one line at a time, in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const echo = client.echo.bind(client);
    client.echo = async (request) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve)); // lets a second line in, if the REPL would take one
      inFlight -= 1;
      return echo(request);
    };

    await run('1\n2\n3\n4\n');

    expect(maxInFlight).toBe(1);
    expect(output.lines.slice(0, 4).map((line) => line.slice(0, 3))).toEqual(['< 1', '< 2', '< 3', '< 4']);
  });
});
