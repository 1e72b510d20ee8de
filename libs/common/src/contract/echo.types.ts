export interface EchoRequest {
  text: string;
}

export interface EchoResponse {
  /** The request's text, unchanged. */
  text: string;
  receivedAt: string;
  /** Size of `text` in UTF-8 bytes. */
  bytes: number;
  /** Length of `text` in UTF-16 code units (JavaScript `length`). */
  codeUnits: number;
  /** Number of Unicode code points in `text`. */
  codePoints: number;
}
