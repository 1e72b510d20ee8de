import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { COMMAND_CATALOG, type CommandCatalog } from '../../core/command-catalog';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { ConnectionsModule } from '../../operations/connections/connections.module';
import { ConnectionTracker } from '../../operations/connections/connection-tracker.service';
import { SERVER_INSTANCE, SERVER_VERSION } from '../../core/server-identity';
import { StatsModule } from '../../operations/stats/stats.module';
import { StatsService } from '../../operations/stats/stats.service';
import { ChatRooms } from './chat-rooms.service';
import { TEXT_GATEWAY_COMMANDS } from '../text/reply-text';
import { TextGatewayServer } from './text-gateway.server';

/** The text gateway's strategy, built by Nest with what it reports to; `startEchoServer` connects it to the application. */
@Module({
  imports: [StatsModule, ConnectionsModule],
  providers: [
    ChatRooms,
    {
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
            encoding: setting('TEXT_ENCODING'),
            maxLineBytes: setting('TEXT_MAX_LINE_BYTES'),
            idleFlushMs: setting('TEXT_IDLE_FLUSH_MS'),
            welcomeDelayMs: setting('TEXT_WELCOME_DELAY_MS'),
            idleTimeoutMs: setting('TEXT_IDLE_TIMEOUT_MS'),
            maxSendBufferBytes: setting('TEXT_MAX_SEND_BUFFER_BYTES'),
          },
          chat,
          {
            opened: (socket) => connections.track(socket, 'text'),
            dropped: (peer) => connections.dropped(peer, maxConnections, 'TEXT_MAX_CONNECTIONS'),
            countError: (code) => stats.recordError(code, 'text'),
            // Plain ASCII, so that it reads right whatever encoding the client assumes.
            welcome: () =>
              `Welcome to ${serverName} ${SERVER_VERSION} on ${SERVER_INSTANCE}! Type a line and it comes back. ` +
              `Commands: ${[...commands.names(), ...TEXT_GATEWAY_COMMANDS.map((command) => command.name)]
                .map((name) => `/${name}`)
                .join(' ')}. Type quit to leave.`,
          },
        );
      },
    },
  ],
  exports: [TextGatewayServer],
})
export class TextGatewayModule {}
