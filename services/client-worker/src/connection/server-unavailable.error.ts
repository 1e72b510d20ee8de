/** The server did not answer `hello` within the allowed attempts. */
export class ServerUnavailableError extends Error {
  override readonly name = 'ServerUnavailableError';
}
