import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT, EVENT_PATTERNS, REQUEST_PATTERNS, type EventUnit, type RequestUnit } from '../wire-contract';
import { schemasOf, SCHEMA_REF_PREFIX, type JsonSchema } from './contract-schemas';
import { RpcErrorEnvelope } from './rpc-error-envelope.schema';

/** An AsyncAPI 3.0 document, as plain JSON. */
export interface AsyncApiDocument {
  readonly asyncapi: '3.0.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly defaultContentType: string;
  readonly servers: Record<string, JsonSchema>;
  readonly channels: Record<string, JsonSchema>;
  readonly operations: Record<string, JsonSchema>;
  readonly components: { readonly schemas: Record<string, JsonSchema>; readonly messages: Record<string, JsonSchema> };
}

/** The server's default TCP port (ECHO_PORT), for the document's server entry. */
const DEFAULT_TCP_HOST = 'localhost:3000';
const ERROR_MESSAGE = 'rpcError';
const EXAMPLE_NAME = 'contract-example';

const FRAMING = [
  "Nest's TCP transport (ECHO_PORT, 3000 by default; TLS only, with the same frames inside, when TLS_CERT_FILE and TLS_KEY_FILE are set):",
  'every packet is one frame',
  "`<length>#<json>`, `<length>` being the JSON's length in UTF-16 code units (JavaScript `string.length`) in decimal.",
  'A request is `{"pattern": "<channel address>", "data": <request payload>, "id": "<any string>"}`;',
  'its reply is `{"id": "<the same id>", "response": <response payload>, "isDisposed": true}`,',
  'or `{"id": ..., "err": <error envelope>, "isDisposed": true}`. An event is `{"pattern": ..., "data": ...}`, never answered.',
  'The same patterns are served by the plain-text gateway (TEXT_PORT, 3001/tcp) and UDP (UDP_PORT, 3001/udp):',
  'a line `/call <pattern> <json payload>` answers the response as one line of JSON (an error as `ERR <CODE> <message>`),',
  '`/emit <pattern> <json payload>` sends an event and answers `OK`; UDP also takes one Nest packet as JSON per datagram.',
  'See docs/doors.md.',
].join(' ');

/** libs/common's version (its package.json is one level above `src` and `dist`). */
function contractVersion(): string {
  const packageJson = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return packageJson.version;
}

function schemaRef(name: string): JsonSchema {
  return { $ref: `${SCHEMA_REF_PREFIX}${name}` };
}

/** A channel key: the pattern where AsyncAPI allows it (keys are `[A-Za-z0-9_-]+`; the address stays the pattern). */
function channelKey(pattern: string): string {
  return pattern.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * The wire contract (`CONTRACT`) as an AsyncAPI 3.0 document: one channel per pattern, its address
 * the pattern's name; per request pattern an operation `send` with a `reply` (the response, or the
 * error envelope), per event pattern an operation `send` without one; message payloads are JSON
 * Schemas generated from the request DTOs and response classes by class-validator-jsonschema, and
 * each request's and event's contract example is its message's example (a request's expected
 * response fields, `CONTRACT`'s partial example response, in the request message's `x-example-response`). Deterministic:
 * the same contract gives the same document. `npm run contract:asyncapi` writes it to
 * docs/asyncapi.yaml; the server serves it at `GET /asyncapi.json` on its HTTP side port.
 */
export function contractAsyncApi(): AsyncApiDocument {
  const requests = REQUEST_PATTERNS.map((pattern) => [pattern, CONTRACT.requests[pattern] as RequestUnit<object, unknown>] as const);
  const events = EVENT_PATTERNS.map((pattern) => [pattern, CONTRACT.events[pattern] as EventUnit<object>] as const);
  const { names, schemas } = schemasOf([
    ...requests.flatMap(([, unit]) => [unit.dto, unit.response]),
    ...events.map(([, unit]) => unit.dto),
    RpcErrorEnvelope,
  ]);
  const schemaOf = (type: abstract new (...args: never[]) => unknown): JsonSchema => schemaRef(names.get(type) as string);

  const channels: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};
  for (const [pattern, unit] of requests) {
    const key = channelKey(pattern);
    const channelRef = { $ref: `#/channels/${key}` };
    channels[key] = {
      address: pattern,
      title: pattern,
      description: `Request pattern \`${pattern}\`: the client waits for exactly one reply, its response or an error envelope.`,
      messages: {
        request: {
          name: `${pattern}Request`,
          title: `${pattern} request`,
          summary: `The \`data\` of a request packet of \`${pattern}\`.`,
          payload: schemaOf(unit.dto),
          examples: [{ name: EXAMPLE_NAME, payload: unit.example.request }],
          // An example's fields are fixed by AsyncAPI: the example reply's fields go beside it.
          'x-example-response': unit.example.response,
        },
        response: {
          name: `${pattern}Response`,
          title: `${pattern} response`,
          summary: `The \`response\` of the reply to \`${pattern}\`.`,
          payload: schemaOf(unit.response),
        },
        error: { $ref: `#/components/messages/${ERROR_MESSAGE}` },
      },
    };
    operations[key] = {
      action: 'send',
      title: `Call ${pattern}`,
      channel: channelRef,
      messages: [{ $ref: `#/channels/${key}/messages/request` }],
      reply: {
        channel: channelRef,
        messages: [{ $ref: `#/channels/${key}/messages/response` }, { $ref: `#/channels/${key}/messages/error` }],
      },
    };
  }
  for (const [pattern, unit] of events) {
    const key = channelKey(pattern);
    channels[key] = {
      address: pattern,
      title: pattern,
      description: `Event pattern \`${pattern}\`: fire and forget, the server never replies.`,
      messages: {
        event: {
          name: `${pattern}Event`,
          title: `${pattern} event`,
          summary: `The \`data\` of an event packet of \`${pattern}\` (no \`id\`).`,
          payload: schemaOf(unit.dto),
          examples: [{ name: EXAMPLE_NAME, payload: unit.example }],
        },
      },
    };
    operations[key] = {
      action: 'send',
      title: `Emit ${pattern}`,
      channel: { $ref: `#/channels/${key}` },
      messages: [{ $ref: `#/channels/${key}/messages/event` }],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'echo-pair wire contract',
      version: contractVersion(),
      description: [
        "Every pattern of the echo server's wire contract (`CONTRACT`, libs/common/src/contract/wire-contract.ts),",
        'generated from it by `npm run contract:asyncapi`; the server serves the same document at `GET /asyncapi.json`',
        'on its HTTP side port. Requests and responses are JSON objects without unknown fields. See docs/contract.md.',
      ].join(' '),
    },
    defaultContentType: 'application/json',
    servers: {
      tcp: { host: DEFAULT_TCP_HOST, protocol: 'tcp', title: 'Echo server, framed TCP', description: FRAMING },
    },
    channels,
    operations,
    components: {
      schemas,
      messages: {
        [ERROR_MESSAGE]: {
          name: ERROR_MESSAGE,
          title: 'Error envelope',
          summary: 'The `err` of an error reply, on any request pattern.',
          payload: schemaOf(RpcErrorEnvelope),
        },
      },
    },
  };
}
