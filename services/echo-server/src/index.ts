export * from './echo-server.factory';
export * from './echo-server.module';
export * from './config/echo-server-environment';
export * from './command/command.decorator';
export * from './command/command-handler';
export * from './command/command-arguments.error';
export * from './command/command-registry.service';
export * from './stats/stats.service';
