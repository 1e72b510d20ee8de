import { serverAddressOf, serverAddressSettingsOf, serverPortOf } from './server-address';

describe('serverAddressOf', () => {
  const settings = { ECHO_SERVER_HOST: 'echo-server', ECHO_SERVER_PORT: 3000, ECHO_SERVER_UDP_PORT: 3001 };

  it('names the framed TCP port over tcp', () => {
    expect(serverAddressOf({ ...settings, ECHO_TRANSPORT: 'tcp' })).toBe('echo-server:3000');
    expect(serverAddressSettingsOf({ ECHO_TRANSPORT: 'tcp' })).toBe('ECHO_SERVER_HOST and ECHO_SERVER_PORT');
  });

  it('names the UDP port, marked /udp, over udp', () => {
    expect(serverAddressOf({ ...settings, ECHO_TRANSPORT: 'udp' })).toBe('echo-server:3001/udp');
    expect(serverAddressSettingsOf({ ECHO_TRANSPORT: 'udp' })).toBe('ECHO_SERVER_HOST and ECHO_SERVER_UDP_PORT');
  });
});

describe('serverPortOf', () => {
  const settings = { ECHO_SERVER_PORT: 3000, ECHO_SERVER_UDP_PORT: 3001 };

  it('is the TCP port over tcp, the UDP port over udp', () => {
    expect(serverPortOf({ ...settings, ECHO_TRANSPORT: 'tcp' })).toBe(3000);
    expect(serverPortOf({ ...settings, ECHO_TRANSPORT: 'udp' })).toBe(3001);
  });
});
