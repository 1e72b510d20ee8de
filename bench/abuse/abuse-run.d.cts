// Types of abuse-run.cjs for the TypeScript container suite (test/containers/abuse.container-spec.ts).

/** What happened to a set of connections of one attack (tracked-socket.cjs's `summarise`). */
export interface ConnectionFigures {
  attempted: number;
  connectFailed: number;
  refusedWithLine: number;
  closedWithoutLine: number;
  closedByServer: number;
  openAtEnd: number;
  maxSecondsToClose: number | null;
  byeLines: number;
  silentAtEnd: number;
}

export interface StreamFigures extends ConnectionFigures {
  door: 'text' | 'nest';
  bytesSent: number;
}

export interface LaneFigures {
  sent: number;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  connects: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface WellBehavedFigures {
  seconds: number;
  tcp: LaneFigures;
  text: LaneFigures;
}

export interface AbuseTarget {
  host: string;
  tcpPort: number;
  textPort: number;
  udpPort: number;
  httpPort: number;
}

export interface AbuseReport {
  cpu: string;
  baselineSeconds: number;
  abuseSeconds: number;
  wellBehaved: { baseline: WellBehavedFigures; underAbuse: WellBehavedFigures };
  single: Array<{ kind: string; rssBeforeBytes: number | null; rssPeakBytes: number | null; growthBytes: number | null }>;
  attacks: {
    rounds: number;
    longText: StreamFigures;
    longNest: StreamFigures;
    floodText: StreamFigures;
    floodNest: StreamFigures;
    chat: {
      linesSent: number;
      flooders: ConnectionFigures;
      reader: ConnectionFigures & { linesReceived: number };
      slowReaders: ConnectionFigures;
    };
    udp: { sent: number; bytesSent: number; replies: number; replyBytes: number; replyToRequestRatio: number };
    connections: { text: ConnectionFigures; tcp: ConnectionFigures; textDrippers: ConnectionFigures; tcpDrippers: ConnectionFigures };
  };
  doors: { tcp: string; text: string; udp: string; http: string };
  cpuDuringAbuse: { serverPercent: number | null; attackersPercent: number };
  openConnections: { peak: Partial<Record<'tcp' | 'text', number>>; chatCutOff: number; polls: number; failures: number };
  memory: {
    cgroupVersion: number;
    limitBytes: number | null;
    peakBytes: number;
    peakSource: string;
    peakDuringAbuseBytes: number | null;
    rssPeakBytes: number;
    oomKills: number | null;
    oomKilled: boolean;
  };
  restarts: {
    restartCount: number;
    sameStart: boolean;
    samePid: boolean;
    running: boolean;
    events: Array<{ event: string; exitCode: string | null; at: string }>;
  };
  logLinesDuringAbuse: number;
  environment: Record<string, string>;
}

export interface AbuseOptions {
  target: AbuseTarget;
  containerId: string;
  wellBehaved: (seconds: number) => Promise<WellBehavedFigures>;
  baselineSeconds: number;
  abuseSeconds: number;
  roundSeconds?: number;
  singleConnection?: boolean;
  scale?: Record<string, number>;
  progress?: (line: string) => void;
}

export declare function runAbuse(options: AbuseOptions): Promise<AbuseReport>;
export declare const DEFAULT_SCALE: Readonly<Record<string, number>>;
