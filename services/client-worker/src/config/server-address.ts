import type { WorkerEnvironment } from './worker-environment';

type AddressSettings = Pick<WorkerEnvironment, 'ECHO_SERVER_HOST' | 'ECHO_SERVER_PORT' | 'ECHO_SERVER_UDP_PORT' | 'ECHO_TRANSPORT'>;

/** The server's port the worker calls: ECHO_SERVER_PORT over TCP, ECHO_SERVER_UDP_PORT with ECHO_TRANSPORT=udp. */
export function serverPortOf(settings: Omit<AddressSettings, 'ECHO_SERVER_HOST'>): number {
  return settings.ECHO_TRANSPORT === 'udp' ? settings.ECHO_SERVER_UDP_PORT : settings.ECHO_SERVER_PORT;
}

/** Where the worker talks to, as people read it: `echo-server:3000`, or `echo-server:3001/udp` over UDP. */
export function serverAddressOf(settings: AddressSettings): string {
  return `${settings.ECHO_SERVER_HOST}:${serverPortOf(settings)}${settings.ECHO_TRANSPORT === 'udp' ? '/udp' : ''}`;
}

/** The settings that name that address, for hints. */
export function serverAddressSettingsOf(settings: Pick<WorkerEnvironment, 'ECHO_TRANSPORT'>): string {
  return settings.ECHO_TRANSPORT === 'udp' ? 'ECHO_SERVER_HOST and ECHO_SERVER_UDP_PORT' : 'ECHO_SERVER_HOST and ECHO_SERVER_PORT';
}
