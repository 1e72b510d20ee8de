import { Socket } from 'node:net';
import { BaseRpcContext, JsonSocket, TcpContext, type TcpSocket } from '@nestjs/microservices';
import { Transports } from '@echo-pair/common';
import { GatewayContext } from './gateway-context';
import { describeServedCall, patternAndTransportOf } from './served-call';

/** A TCP socket as Nest's transport wraps it, with the peer address a connected socket would have. */
function tcpSocketFrom(remoteAddress: string | undefined, remotePort: number | undefined): TcpSocket {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  Object.defineProperty(socket, 'remotePort', { value: remotePort });
  return new JsonSocket(socket);
}

describe('patternAndTransportOf', () => {
  it('reads a gateway context: text', () => {
    const context = new GatewayContext(['echo', Transports.TEXT, '127.0.0.1:50312']);

    expect(patternAndTransportOf(context)).toEqual({ pattern: 'echo', transport: 'text' });
  });

  it('reads a gateway context: UDP', () => {
    const context = new GatewayContext(['command', Transports.UDP, '[::1]:4000']);

    expect(patternAndTransportOf(context)).toEqual({ pattern: 'command', transport: 'udp' });
  });

  it("reads Nest's TCP context as the tcp transport", () => {
    const context = new TcpContext([tcpSocketFrom('127.0.0.1', 50312), 'hello']);

    expect(patternAndTransportOf(context)).toEqual({ pattern: 'hello', transport: 'tcp' });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a plain object shaped like a context', { getPattern: () => 'echo', getTransport: () => 'text' }],
    ['another RPC context', new BaseRpcContext(['echo', 'text', 'peer'])],
    ['an HTTP request', { method: 'GET', url: '/health' }],
  ])('knows nothing of %s', (_label, context) => {
    expect(patternAndTransportOf(context)).toBeUndefined();
  });
});

describe('describeServedCall', () => {
  it('names the pattern, the peer and the transport of a gateway call', () => {
    const context = new GatewayContext(['echo', Transports.TEXT, '127.0.0.1:50312']);

    expect(describeServedCall(context)).toBe('"echo" from 127.0.0.1:50312 over text');
  });

  it('quotes the pattern as JSON', () => {
    const context = new GatewayContext(['say "hi"\n', Transports.UDP, '[::1]:4000']);

    expect(describeServedCall(context)).toBe('"say \\"hi\\"\\n" from [::1]:4000 over udp');
  });

  it('names the pattern and the peer of a TCP call', () => {
    expect(describeServedCall(new TcpContext([tcpSocketFrom('127.0.0.1', 50312), 'echo']))).toBe('"echo" from 127.0.0.1:50312');
  });

  it('brackets an IPv6 TCP peer', () => {
    expect(describeServedCall(new TcpContext([tcpSocketFrom('::1', 4000), 'command']))).toBe('"command" from [::1]:4000');
  });

  it('copes with a TCP socket that has no peer address any more', () => {
    // A destroyed socket has lost its address; the description must still be produced.
    expect(describeServedCall(new TcpContext([tcpSocketFrom(undefined, undefined), 'echo']))).toMatch(/^"echo" from unknown/);
  });

  it('copes with a TCP context without a socket', () => {
    const context = new TcpContext([undefined as unknown as TcpSocket, 'echo']);

    expect(describeServedCall(context)).toBe('"echo" from unknown peer');
  });

  it.each([
    ['undefined', undefined],
    ['another RPC context', new BaseRpcContext(['echo'])],
    ['a plain object', { pattern: 'echo' }],
  ])('says "unknown call" for %s', (_label, context) => {
    expect(describeServedCall(context)).toBe('unknown call');
  });
});
