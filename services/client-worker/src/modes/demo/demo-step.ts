import { performance } from 'node:perf_hooks';
import {
  describeError,
  RpcClientError,
  type EchoClient,
  type EventPattern,
  type HelloResponse,
  type RequestPattern,
  type RpcClientErrorCode,
  type RpcErrorEnvelope,
} from '@echo-pair/common';

export type MessagePattern = RequestPattern | EventPattern;

/** The outcome of a check: whether it held, and what was checked (or what went wrong). */
export interface Verdict {
  ok: boolean;
  detail: string;
}

export interface DemoContext {
  /** The server's reply to the handshake. */
  readonly hello: HelloResponse;
  /** Messages sent so far per pattern, this step's included. */
  readonly sent: Readonly<Record<MessagePattern, number>>;
}

export interface StepContext extends DemoContext {
  /** How long this step's call took. */
  readonly latencyMs: number;
}

export interface StepResult extends Verdict {
  latencyMs: number;
  /** Further lines of the transcript, such as an error envelope. */
  notes: string[];
}

export interface DemoStep {
  /** What the transcript shows was called. */
  readonly label: string;
  readonly pattern: MessagePattern;
  /** The command that this step exercises, if any. */
  readonly command?: string;
  perform(client: EchoClient, context: DemoContext): Promise<StepResult>;
}

interface StepDefinition {
  label: string;
  pattern: MessagePattern;
  command?: string;
}

/** A step whose call must succeed, and whose reply must pass `check`. */
export function expectReply<R>(
  definition: StepDefinition & { call: (client: EchoClient) => Promise<R>; check: (reply: R, context: StepContext) => Verdict },
): DemoStep {
  return {
    label: definition.label,
    pattern: definition.pattern,
    command: definition.command,
    async perform(client, context) {
      const { outcome, latencyMs } = await timed(() => definition.call(client));
      if (!outcome.ok) {
        return {
          ok: false,
          detail: `expected a reply, got ${describeError(outcome.error)}`,
          latencyMs,
          notes: envelopeNotes(outcome.error),
        };
      }
      return { ...definition.check(outcome.value, { ...context, latencyMs }), latencyMs, notes: [] };
    },
  };
}

/** A step whose call must fail with `code`, and whose error envelope must pass `check`. */
export function expectRejection<C extends RpcClientErrorCode>(
  definition: StepDefinition & {
    code: C;
    call: (client: EchoClient) => Promise<unknown>;
    check: (envelope: RpcErrorEnvelope<Extract<C, RpcErrorEnvelope['code']>>, context: StepContext) => Verdict;
  },
): DemoStep {
  return {
    label: definition.label,
    pattern: definition.pattern,
    command: definition.command,
    async perform(client, context) {
      const { outcome, latencyMs } = await timed(() => definition.call(client));
      if (outcome.ok) {
        return { ok: false, detail: `expected ${definition.code}, got a reply`, latencyMs, notes: [] };
      }
      const notes = envelopeNotes(outcome.error);
      const error = outcome.error;
      if (!(error instanceof RpcClientError) || error.code !== definition.code || error.envelope === undefined) {
        return { ok: false, detail: `expected ${definition.code}, got ${describeError(error)}`, latencyMs, notes };
      }
      const verdict = definition.check(error.envelope as RpcErrorEnvelope<Extract<C, RpcErrorEnvelope['code']>>, { ...context, latencyMs });
      return { ok: verdict.ok, detail: `${definition.code}, ${verdict.detail}`, latencyMs, notes };
    },
  };
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

async function timed<R>(call: () => Promise<R>): Promise<{ outcome: Outcome<R>; latencyMs: number }> {
  const startedAt = performance.now();
  let outcome: Outcome<R>;
  try {
    outcome = { ok: true, value: await call() };
  } catch (error: unknown) {
    outcome = { ok: false, error };
  }
  return { outcome, latencyMs: performance.now() - startedAt };
}

function envelopeNotes(error: unknown): string[] {
  return error instanceof RpcClientError && error.envelope ? [`envelope ${JSON.stringify(error.envelope)}`] : [];
}
