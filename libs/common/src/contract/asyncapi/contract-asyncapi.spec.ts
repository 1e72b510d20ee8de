import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes } from '../error-envelope';
import { EVENT_PATTERNS, REQUEST_PATTERNS } from '../wire-contract';
import { WireLimits } from '../wire-limits';
import { contractAsyncApi } from './contract-asyncapi';

const COMMITTED = join(__dirname, '..', '..', '..', '..', '..', 'docs', 'asyncapi.yaml');
/** The parser loads its rule sets on first use: seconds on a loaded machine. */
const PARSE_TIMEOUT_MS = 30_000;

type Json = Record<string, unknown>;

function at(document: unknown, ...path: string[]): Json {
  return path.reduce<Json>((node, key) => node[key] as Json, document as Json);
}

describe('contractAsyncApi', () => {
  const document = contractAsyncApi();

  it('is what docs/asyncapi.yaml holds (run `npm run contract:asyncapi` after changing the contract)', () => {
    expect(parse(readFileSync(COMMITTED, 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('is the same document on every call', () => {
    expect(JSON.stringify(contractAsyncApi())).toBe(JSON.stringify(document));
  });

  it(
    'is a valid AsyncAPI 3.0 document for @asyncapi/parser, with a channel and an operation per pattern',
    async () => {
      const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
      expect(diagnostics.filter(({ severity }) => Number(severity) <= Number(DiagnosticSeverity.Warning))).toEqual([]);
      expect(parsed?.version()).toBe('3.0.0');
      const channels = parsed?.channels().all() ?? [];
      expect(channels.map((channel) => channel.address())).toEqual([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);

      const operations = new Map(
        (parsed?.operations().all() ?? []).map((operation) => [operation.channels().all()[0]?.address(), operation]),
      );
      for (const pattern of REQUEST_PATTERNS) {
        const operation = operations.get(pattern);
        expect(operation?.action()).toBe('send');
        expect(operation?.messages().all()[0]?.payload()?.json()).toMatchObject({ type: 'object' });
        const replies = operation?.reply()?.messages().all() ?? [];
        expect(replies.map((message) => message.name())).toEqual([`${pattern}Response`, 'rpcError']);
        expect(replies[1]?.payload()?.properties()?.code?.enum()).toEqual(Object.values(ErrorCodes));
      }
      for (const pattern of EVENT_PATTERNS) {
        expect(operations.get(pattern)?.action()).toBe('send');
        expect(operations.get(pattern)?.reply()).toBeUndefined();
      }
    },
    PARSE_TIMEOUT_MS,
  );

  it('puts every contract example in its message', () => {
    for (const pattern of REQUEST_PATTERNS) {
      expect(at(document.channels, pattern, 'messages', 'request', 'examples')).toEqual([
        { name: 'contract-example', payload: expect.any(Object) as unknown },
      ]);
    }
    for (const pattern of EVENT_PATTERNS) {
      expect(at(document.channels, pattern, 'messages', 'event', 'examples')).toHaveLength(1);
    }
  });

  it('converts the custom MaxTextLength as MaxLength, on single texts and on each item', () => {
    const { schemas } = document.components;
    expect(at(schemas, 'EchoDto', 'properties', 'text')).toEqual({ type: 'string', maxLength: WireLimits.echoTextMaxLength });
    expect(at(schemas, 'CommandDto', 'properties', 'args', 'items')).toEqual({ type: 'string', maxLength: WireLimits.commandArgMaxLength });
    expect(at(schemas, 'NoteDto', 'properties', 'text')).toEqual({ type: 'string', minLength: 1, maxLength: WireLimits.noteTextMaxLength });
  });

  it('names the nested classes of a response, and forbids unknown fields everywhere', () => {
    const { schemas } = document.components;
    expect(at(schemas, 'HelloResponseDto', 'properties', 'commands', 'items')).toEqual({
      $ref: '#/components/schemas/CommandDescriptorDto',
    });
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['HelloPatternsDto', 'ServerLimitsDto', 'CommandDescriptorDto']));
    Object.values(schemas).forEach((schema) => expect(schema).toMatchObject({ type: 'object', additionalProperties: false }));
  });
});
