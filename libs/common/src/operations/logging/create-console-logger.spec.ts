import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTracing } from '../tracing/start-tracing';
import { activeTracer } from '../../transport/trace-context/tracing-state';
import { consoleLoggerFromEnvironment, createConsoleLogger, type ConsoleLoggerSettings } from './create-console-logger';
import { LOG_LEVELS } from './log-settings';

/** Starts every ANSI colour sequence. */
const ESC = '\u001b[';

describe('createConsoleLogger', () => {
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  const savedNoColor = process.env.NO_COLOR;
  const savedIsTty = process.stdout.isTTY;

  /** What the logger wrote, one string per write, per stream. */
  const written = (spy: jest.SpyInstance): string[] => spy.mock.calls.map(([chunk]) => String(chunk));

  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.env.NO_COLOR = '1';
  });

  afterEach(() => {
    jest.restoreAllMocks();
    if (savedNoColor === undefined) {
      delete process.env.NO_COLOR;
    } else {
      process.env.NO_COLOR = savedNoColor;
    }
    process.stdout.isTTY = savedIsTty;
  });

  it.each(LOG_LEVELS.map((level, index) => ({ level, enabled: LOG_LEVELS.slice(0, index + 1) })))(
    'level $level enables $enabled',
    ({ level, enabled }) => {
      const logger = createConsoleLogger({ format: 'text', level: level, name: 'unit-echo' });

      for (const candidate of LOG_LEVELS) {
        expect([candidate, logger.isLevelEnabled(candidate)]).toEqual([candidate, enabled.includes(candidate)]);
      }
    },
  );

  it('writes one JSON object per line in json format', () => {
    const logger = createConsoleLogger({ format: 'json', level: 'log', name: 'unit-echo' });

    logger.log('listening', 'EchoServer');
    logger.error('it broke', undefined, 'RpcErrors');

    const [out] = written(stdout);
    expect(written(stdout)).toHaveLength(1);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trimEnd()).not.toContain('\n');
    expect(JSON.parse(out)).toEqual({
      service: 'unit-echo',
      level: 'log',
      pid: process.pid,
      timestamp: expect.any(Number) as unknown,
      message: 'listening',
      context: 'EchoServer',
    });
    const [err] = written(stderr);
    expect(JSON.parse(err)).toMatchObject({ level: 'error', message: 'it broke', context: 'RpcErrors' });
  });

  it('adds the trace and span ids of the active span to a JSON record, with tracing on, and nothing outside a span', async () => {
    const logger = createConsoleLogger({ format: 'json', level: 'log', name: 'unit-echo' });
    const text = createConsoleLogger({ format: 'text', level: 'log', name: 'unit-echo' });
    const tracing = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} });
    stdout.mockClear(); // "tracing on"
    try {
      const span = activeTracer()!.startSpan('handling');
      context.with(trace.setSpan(context.active(), span), () => {
        logger.log('inside', 'Handler');
        text.log('inside as text', 'Handler');
      });
      logger.log('outside', 'Handler');
      span.end();

      const [inside, insideText, outside] = written(stdout);
      expect(JSON.parse(inside)).toEqual(
        expect.objectContaining({ message: 'inside', traceId: span.spanContext().traceId, spanId: span.spanContext().spanId }),
      );
      expect(insideText).not.toContain(span.spanContext().traceId);
      expect(Object.keys(JSON.parse(outside) as object)).not.toContain('traceId');
    } finally {
      await tracing.shutdown();
    }
  });

  it('adds no trace id with tracing off, even inside a span context', () => {
    const logger = createConsoleLogger({ format: 'json', level: 'log', name: 'unit-echo' });
    const foreign = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });

    context.with(trace.setSpan(context.active(), foreign), () => logger.log('inside', 'Handler'));

    expect(Object.keys(JSON.parse(written(stdout)[0]) as object)).not.toContain('traceId');
  });

  it('reads LOG_FORMAT and LOG_LEVEL leniently for what is logged before the configuration is validated', () => {
    consoleLoggerFromEnvironment({ LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }, { name: 'early' }).log('dropped', 'Tracing');
    consoleLoggerFromEnvironment({ LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }, { name: 'early' }).warn('kept', 'Tracing');
    consoleLoggerFromEnvironment({ LOG_FORMAT: 'yaml', LOG_LEVEL: 'loud' }, { name: 'early' }).log('as text', 'Tracing');
    consoleLoggerFromEnvironment({ LOG_FORMAT: 'json' }, { name: 'early', streams: 'stderr' }).log('to stderr', 'Tracing');

    const [kept, asText] = written(stdout);
    expect(written(stdout)).toHaveLength(2);
    expect(JSON.parse(kept)).toMatchObject({ service: 'early', level: 'warn', message: 'kept' });
    expect(asText).toMatch(/^\[early\] .* LOG \[Tracing\] as text\n$/);
    expect(JSON.parse(written(stderr)[0])).toMatchObject({ message: 'to stderr' });
  });

  it('never colours json output, even on a terminal', () => {
    delete process.env.NO_COLOR;
    process.stdout.isTTY = true;
    const logger = createConsoleLogger({ format: 'json', level: 'log', name: 'unit-echo' });

    logger.log('plain', 'Ctx');

    expect(written(stdout).join('')).not.toContain(ESC);
  });

  it('writes readable lines prefixed with the server name in text format', () => {
    const logger = createConsoleLogger({ format: 'text', level: 'log', name: 'unit-echo' });

    logger.log('listening', 'EchoServer');
    logger.warn('careful', 'RpcErrors');

    const lines = written(stdout);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^\\[unit-echo\\] ${process.pid} {2}- .+ {5}LOG \\[EchoServer\\] listening\\n$`));
    expect(lines[1]).toMatch(/ {4}WARN \[RpcErrors\] careful\n$/);
    expect(lines.join('')).not.toContain(ESC);
    expect(() => JSON.parse(lines[0]) as unknown).toThrow();
  });

  it.each([
    { label: 'on a terminal without NO_COLOR', isTty: true, noColor: undefined, coloured: true },
    { label: 'on a terminal with NO_COLOR', isTty: true, noColor: '1', coloured: false },
    { label: 'when piped', isTty: false, noColor: undefined, coloured: false },
  ])('colours text output only $label', ({ isTty, noColor, coloured }) => {
    process.stdout.isTTY = isTty;
    if (noColor === undefined) {
      delete process.env.NO_COLOR;
    } else {
      process.env.NO_COLOR = noColor;
    }
    const logger = createConsoleLogger({ format: 'text', level: 'log', name: 'unit-echo' });

    logger.log('hello', 'Ctx');

    expect(written(stdout).join('').includes(ESC)).toBe(coloured);
  });

  it.each<{ config: ConsoleLoggerSettings }>([
    { config: { format: 'text', level: 'warn', name: 'unit-echo' } },
    { config: { format: 'json', level: 'warn', name: 'unit-echo' } },
  ])('drops messages below level warn in $config.format format', ({ config }) => {
    const logger = createConsoleLogger(config);

    logger.verbose('v');
    logger.debug('d');
    logger.log('l');
    expect(stdout).not.toHaveBeenCalled();

    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(written(stdout)).toHaveLength(1);
    expect(written(stdout)[0]).toContain('w');
    expect(written(stderr)).toHaveLength(2);
  });

  it('prints everything at level verbose', () => {
    const logger = createConsoleLogger({ format: 'json', level: 'verbose', name: 'unit-echo' });

    logger.verbose('v');
    logger.debug('d');
    logger.log('l');
    logger.warn('w');

    expect(written(stdout).map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(['verbose', 'debug', 'log', 'warn']);
  });

  it('writes every level to stderr with streams: stderr, keeping stdout free', () => {
    const logger = createConsoleLogger({ format: 'json', level: 'verbose', name: 'unit-worker', streams: 'stderr' });

    logger.log('l');
    logger.warn('w');
    logger.error('e');

    expect(stdout).not.toHaveBeenCalled();
    expect(written(stderr).map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(['log', 'warn', 'error']);
  });
});
