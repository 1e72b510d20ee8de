/** `127.0.0.1:5050` or `[::1]:5050`: the peer of a socket, as every log line writes it. */
export function formatPeer(socket: { remoteAddress?: string; remotePort?: number }): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}
