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

describe('TextGatewayServer handler lookup (GatewayServer route lookup)', () => {
  const handler = Object.assign(() => Promise.resolve('x'), { isEventHandler: false });
  const structured = Object.assign(() => Promise.resolve('y'), { isEventHandler: false });

  it.each([true, false])('finds the same handlers as stock Nest (fastPath %s)', (fastPath) => {
    const server = gateway(fastPath);
    server.addHandler('echo', handler);
    server.addHandler({ cmd: 'x' }, structured);
    expect(server.getHandlerByPattern('echo')).toBe(handler);
    expect(server.getHandlerByPattern('{"cmd":"x"}')).toBe(structured);
    expect(server.getHandlerByPattern(' {"cmd": "x"}')).toBe(structured);
    expect(server.getHandlerByPattern('nope')).toBeNull();
  });

  it("reads a word pattern without Nest's JSON.parse (a thrown SyntaxError per call); with ECHO_FAST_PATH=false, as Nest does", () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const fast = gateway();
      fast.addHandler('echo', handler);
      fast.getHandlerByPattern('echo');
      expect(parse).not.toHaveBeenCalled();
      const stock = gateway(false);
      stock.addHandler('echo', handler);
      stock.getHandlerByPattern('echo');
      expect(parse).toHaveBeenCalledWith('echo');
    } finally {
      parse.mockRestore();
    }
  });
});
