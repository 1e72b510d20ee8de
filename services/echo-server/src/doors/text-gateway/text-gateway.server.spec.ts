import type { ChatRooms } from './chat-rooms.service';
import { TextGatewayServer, type TextGatewayHooks, type TextGatewayOptions } from './text-gateway.server';

function gateway(fastPath?: boolean): TextGatewayServer {
  const options: TextGatewayOptions = {
    host: '127.0.0.1',
    port: 0,
    maxConnections: 1,
    maxConnectionsPerAddress: 0,
    encoding: 'auto',
    maxLineBytes: 1024,
    idleFlushMs: 50,
    welcomeDelayMs: 1000,
    idleTimeoutMs: 0,
    lineTimeoutMs: 0,
    chatStallMs: 1000,
    chatMaxBacklogBytes: 65536,
    ...(fastPath === undefined ? {} : { fastPath }),
  };
  return new TextGatewayServer(options, {} as ChatRooms, {} as TextGatewayHooks);
}

describe('TextGatewayServer.getHandlerByPattern', () => {
  const handler = Object.assign(() => Promise.resolve('x'), { isEventHandler: false });

  it("finds a word pattern's handler by the word, without Nest's JSON reading of the pattern", () => {
    const server = gateway();
    server.addHandler('echo', handler);
    const route = jest.spyOn(server as unknown as { getRouteFromPattern(pattern: string): string }, 'getRouteFromPattern');

    expect(server.getHandlerByPattern('echo')).toBe(handler);
    expect(route).not.toHaveBeenCalled();
    expect(server.getHandlerByPattern('nope')).toBeNull(); // what Nest's lookup says of the rest
    expect(route).toHaveBeenCalledWith('nope');
  });

  it("leaves the lookup to Nest's with ECHO_FAST_PATH=false", () => {
    const server = gateway(false);
    server.addHandler('echo', handler);
    const route = jest.spyOn(server as unknown as { getRouteFromPattern(pattern: string): string }, 'getRouteFromPattern');

    expect(server.getHandlerByPattern('echo')).toBe(handler);
    expect(route).toHaveBeenCalledWith('echo');
  });
});
