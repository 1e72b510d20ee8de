export interface CommandRequest {
  name: string;
  args?: string[];
}

export interface CommandResponse {
  name: string;
  args: string[];
  output: string;
  startedAt: string;
  durationMs: number;
}
