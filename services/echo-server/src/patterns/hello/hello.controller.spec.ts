import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { EVENT_PATTERNS, REQUEST_PATTERNS, validateEnvironment, WireLimits, type HelloResponse } from '@echo-pair/common';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CommandRegistry } from '../command/command-registry.service';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { EchoServerModule } from '../../echo-server.module';
import { HEALTHCHECK_CLIENT } from '../../core/server-identity';
import { HelloController } from './hello.controller';

const PACKAGE_VERSION = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;
const ALL_COMMANDS = ['help', 'lower', 'reverse', 'sleep', 'stats', 'time', 'upper', 'uptime'];

describe('HelloController', () => {
  let moduleRef: TestingModule;
  let controller: HelloController;
  let log: jest.SpyInstance;

  beforeAll(async () => {
    // The real module, configured from an explicit environment instead of process.env.
    moduleRef = await Test.createTestingModule({
      imports: [
        EchoServerModule.forRoot(
          validateEnvironment(EchoServerEnvironment, {
            SERVER_NAME: 'unit-echo',
            MAX_MESSAGE_LENGTH: '7000000',
            INCOMPLETE_MESSAGE_TIMEOUT_MS: '1500',
            SLEEP_MAX_MS: '250',
          }),
        ),
      ],
    }).compile();
    await moduleRef.init();
    controller = moduleRef.get(HelloController);
  });

  afterAll(async () => {
    await moduleRef.close();
  });

  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('introduces the server, its patterns, its commands and its limits', () => {
    const before = Date.now();
    const response = controller.hello({ client: 'unit-test' });

    expect(response).toEqual<HelloResponse>({
      welcome:
        `Welcome to unit-echo ${PACKAGE_VERSION} on ${hostname()}! Request patterns: ${REQUEST_PATTERNS.join(', ')}; ` +
        `event patterns: ${EVENT_PATTERNS.join(', ')}; commands: ${ALL_COMMANDS.join(', ')}.`,
      server: 'unit-echo',
      version: PACKAGE_VERSION,
      instance: hostname(),
      serverTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as string,
      patterns: { requests: [...REQUEST_PATTERNS], events: [...EVENT_PATTERNS] },
      commands: moduleRef.get(CommandRegistry).describe(),
      limits: { ...WireLimits, maxMessageLength: 7_000_000, incompleteMessageTimeoutMs: 1500, sleepMaxMs: 250 },
    });
    expect(Date.parse(response.serverTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(response.serverTime)).toBeLessThanOrEqual(Date.now());
  });

  it('reports the version of services/echo-server/package.json', () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(controller.hello({}).version).toBe(PACKAGE_VERSION);
  });

  it('lists every command with its usage and description', () => {
    const { commands } = controller.hello({});

    expect(commands.map((command) => command.name)).toEqual(ALL_COMMANDS);
    expect(commands.find((command) => command.name === 'upper')).toEqual({
      name: 'upper',
      usage: 'upper <text...>',
      description: 'the arguments, joined by spaces, in upper case',
    });
  });

  it('includes every wire limit', () => {
    const { limits } = controller.hello({});

    for (const [key, value] of Object.entries(WireLimits)) {
      expect(limits).toHaveProperty(key, value);
    }
  });

  it('hands out copies that a caller cannot use to change later replies', () => {
    const first = controller.hello({});
    first.patterns.requests.push('bogus' as never);

    expect(controller.hello({}).patterns.requests).toEqual([...REQUEST_PATTERNS]);
  });

  it.each([
    { request: { client: 'worker-7' }, line: 'hello from "worker-7"' },
    { request: {}, line: 'hello from an unnamed client' },
  ])('logs who said hello: "$line"', ({ request, line }) => {
    controller.hello(request);

    expect(log).toHaveBeenCalledWith(line);
  });

  it("logs the container healthcheck's hello at debug level only, so that it does not fill the default log", () => {
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);

    controller.hello({ client: HEALTHCHECK_CLIENT });

    expect(log).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith('hello from "healthcheck"');
  });
});

describe('HelloController with default configuration', () => {
  it('reports the default limits when the environment sets none', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EchoServerModule.forRoot(validateEnvironment(EchoServerEnvironment, {}))],
    }).compile();
    try {
      await moduleRef.init();
      const response = moduleRef.get(HelloController).hello({});

      expect(response.server).toBe('echo-server');
      expect(response.limits).toEqual({
        ...WireLimits,
        maxMessageLength: 8 * 1024 * 1024,
        incompleteMessageTimeoutMs: 10_000,
        sleepMaxMs: 10_000,
      });
    } finally {
      await moduleRef.close();
    }
  });
});
