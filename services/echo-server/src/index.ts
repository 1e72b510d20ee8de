export * from './echo-server.factory';
export * from './echo-server.module';
export * from './config/echo-server-environment';
export * from './patterns/command/command.decorator';
export * from './patterns/command/command-handler';
export * from './patterns/command/command-arguments.error';
export * from './patterns/command/command-registry.service';
export * from './operations/stats/stats.service';
