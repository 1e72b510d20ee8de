import { EVENT_PATTERNS, REQUEST_PATTERNS, type EventPattern, type RequestPattern } from '@echo-pair/common';
import { FakeEchoClient } from '../../testing/fake-echo-client';
import { contractExampleSteps } from './contract-example-steps';
import { buildDemoScript } from './demo-script';

const NOTHING_SENT = Object.fromEntries([...REQUEST_PATTERNS, ...EVENT_PATTERNS].map((pattern) => [pattern, 0])) as Record<
  RequestPattern | EventPattern,
  number
>;

describe('contractExampleSteps', () => {
  it('adds nothing while the hand-written demo exercises every pattern of the contract', () => {
    const patterns = new Set(buildDemoScript().map((step) => step.pattern));

    expect([...REQUEST_PATTERNS, ...EVENT_PATTERNS].filter((pattern) => !patterns.has(pattern))).toEqual([]);
  });

  it("runs each uncovered pattern's contract example, and its reply passes against a server that answers as the contract says", async () => {
    const steps = contractExampleSteps(new Set());
    const client = new FakeEchoClient();
    const context = { hello: client.helloReply(), sent: NOTHING_SENT };

    expect(steps.map((step) => step.pattern)).toEqual([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);
    for (const step of steps) {
      const result = await step.perform(client.asEchoClient(), context);
      expect({ label: step.label, ok: result.ok, detail: result.detail }).toMatchObject({ ok: true });
    }
  });

  it('fails a step whose reply lacks what the example expects', async () => {
    const client = new FakeEchoClient();
    client.echoText = (text) => text.toUpperCase();
    const [echo] = contractExampleSteps(new Set([...REQUEST_PATTERNS, ...EVENT_PATTERNS].filter((pattern) => pattern !== 'echo')));

    const result = await echo.perform(client.asEchoClient(), {
      hello: client.helloReply(),
      sent: NOTHING_SENT,
    });

    expect(result.ok).toBe(false);
    expect(result.detail).toContain('text "\\"HÉLLO 你好 😀\\""');
  });
});
