import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Server } from 'node:net';
import type { ServedTransport } from '../../core/served-transport';
import { acceptingConnections } from '../served-transport-of';
import { ConfigService } from '@nestjs/config';
import { COMMAND_CATALOG, type CommandCatalog } from '../../core/command-catalog';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { ConnectionsModule } from '../../operations/connections/connections.module';
import { ConnectionTracker } from '../../operations/connections/connection-tracker.service';
import { SERVER_INSTANCE, SERVER_VERSION } from '../../core/server-identity';
import { StatsService } from '../../operations/stats/stats.service';
import { ChatRooms } from './chat-rooms.service';
import { TEXT_GATEWAY_COMMANDS } from '../text/reply-text';
import { contractWelcome } from '../text/contract-help';
import { TextGatewayServer } from './text-gateway.server';
import { proxyHeaderReaderOf } from '../proxy-protocol/proxy-header-reader';

/** The text gateway's strategy, built by Nest with what it reports to. */
const TEXT_GATEWAY_SERVER: Provider = {
  provide: TextGatewayServer,
  inject: [ConfigService, ChatRooms, ConnectionTracker, StatsService, COMMAND_CATALOG],
  useFactory: (
    config: ConfigService<EchoServerEnvironment, true>,
    chat: ChatRooms,
    connections: ConnectionTracker,
    stats: StatsService,
    commands: CommandCatalog,
  ): TextGatewayServer => {
    const setting = <K extends keyof EchoServerEnvironment>(key: K): EchoServerEnvironment[K] => config.get(key, { infer: true });
    const maxConnections = setting('TEXT_MAX_CONNECTIONS');
    const serverName = setting('SERVER_NAME');
    return new TextGatewayServer(
      {
        host: setting('TEXT_HOST') ?? setting('ECHO_HOST'),
        port: setting('TEXT_PORT'),
        maxConnections,
        maxConnectionsPerAddress: setting('MAX_CONNECTIONS_PER_ADDRESS'),
        ...(setting('PROXY_PROTOCOL') ? { proxyHeaders: proxyHeaderReaderOf({ TRUSTED_PROXIES: setting('TRUSTED_PROXIES') }) } : {}),
        encoding: setting('TEXT_ENCODING'),
        maxLineBytes: setting('TEXT_MAX_LINE_BYTES'),
        idleFlushMs: setting('TEXT_IDLE_FLUSH_MS'),
        welcomeDelayMs: setting('TEXT_WELCOME_DELAY_MS'),
        idleTimeoutMs: setting('TEXT_IDLE_TIMEOUT_MS'),
        lineTimeoutMs: setting('TEXT_LINE_TIMEOUT_MS'),
        chatStallMs: setting('CHAT_STALL_MS'),
        chatMaxBacklogBytes: setting('CHAT_MAX_BACKLOG_BYTES'),
        fastPath: setting('ECHO_FAST_PATH'),
      },
      chat,
      {
        opened: (socket) => connections.track(socket, 'text'),
        refused: (refusal) => connections.refused(refusal),
        rejected: (rejection) => connections.rejected(rejection),
        evicted: (eviction) => connections.evicted(eviction),
        closedByDoor: (reason, peer, detail) => connections.closedByDoor('text', reason, peer, detail),
        countError: (code) => stats.recordError(code, 'text'),
        // One line of plain ASCII, so that it reads right whatever encoding the client assumes; the
        // commands come from the command registry, the patterns and their examples from the contract.
        welcome: () =>
          `Welcome to ${serverName} ${SERVER_VERSION} on ${SERVER_INSTANCE}! Type a line and it comes back. ` +
          `Commands: ${[...commands.names(), ...TEXT_GATEWAY_COMMANDS.map((command) => command.name)]
            .map((name) => `/${name}`)
            .join(' ')}. ${contractWelcome()} Type quit to leave.`,
      },
    );
  },
};

/** The text gateway with chat (an optional door): its strategy, built with what it reports to, as a `ServedTransport`. */
@Module({})
export class TextGatewayModule {
  /** The text door as a `ServedTransport`, or null with TEXT_ENABLED=false. */
  static readonly served = Symbol('TEXT_GATEWAY_SERVED');

  static forRoot(environment: EchoServerEnvironment): DynamicModule {
    const host = environment.TEXT_HOST ?? environment.ECHO_HOST;
    return {
      module: TextGatewayModule,
      imports: [ConnectionsModule],
      providers: [
        ChatRooms,
        TEXT_GATEWAY_SERVER,
        {
          provide: TextGatewayModule.served,
          inject: [TextGatewayServer],
          useFactory: (text: TextGatewayServer): ServedTransport | null =>
            environment.TEXT_ENABLED
              ? acceptingConnections('text', text, text.unwrap<Server>(), (port) => `text gateway on ${host}:${port} (lines; try nc)`)
              : null,
        },
      ],
      exports: [TextGatewayModule.served],
    };
  }
}
