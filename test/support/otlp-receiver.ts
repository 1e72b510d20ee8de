import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP JSON export carries it, with its resource's `service.name`. */
export interface ReceivedSpan {
  service: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  attributes: Record<string, string | number | boolean>;
}

export const OtlpSpanKind = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: OtlpKeyValue[];
}

interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

/**
 * The smallest OTLP receiver: `POST /v1/traces` with a JSON body (what the services' exporter
 * sends), answered 200 with an empty `ExportTraceServiceResponse`; every span is kept. Anything
 * else (another path, protobuf) is answered 415 or 404 and recorded as a rejection, so that a
 * test can tell an exporter that sent nothing from one that sent what this cannot read.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly rejections: string[] = [];
  private readonly server: Server;
  private readonly waiters = new Set<() => void>();

  private constructor() {
    this.server = createServer((request, response) => {
      void this.receive(request).then(
        (status) => {
          response.writeHead(status, { 'Content-Type': 'application/json' });
          response.end(status === 200 ? '{}' : '{"error":"not accepted"}');
        },
        () => {
          response.writeHead(400);
          response.end();
        },
      );
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (the exporter adds `/v1/traces`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with the spans received once `done(spans)` holds; rejects after `timeoutMs`, listing what came. */
  until(done: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs: number): Promise<readonly ReceivedSpan[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done(this.spans)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this.spans);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.spans.map(({ service, name, kind }) => `${service}/${name}/${kind}`).join(', ') || 'none';
        reject(
          new Error(
            `the spans awaited did not arrive within ${timeoutMs} ms; received: ${seen}; rejected: ${this.rejections.join(', ') || 'none'}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async receive(request: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      this.rejections.push(`${request.method} ${request.url}`);
      return 404;
    }
    if (!String(request.headers['content-type']).startsWith('application/json')) {
      this.rejections.push(`content-type ${request.headers['content-type']}`);
      return 415;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            service,
            name: span.name,
            kind: span.kind,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
    this.waiters.forEach((check) => check());
    return 200;
  }
}

function attributesOf(list: OtlpKeyValue[] = []): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const { key, value } of list) {
    attributes[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue);
  }
  return attributes;
}
