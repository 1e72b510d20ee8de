// Types of report.cjs for the TypeScript container suite.
import type { AbuseReport } from './abuse-run.cjs';

export declare function formatReport(report: AbuseReport, title: string): string;
export declare function writeReport(repoRoot: string, prefix: string, markdown: string, report: AbuseReport): string;
export declare const RSS_BOUND_BYTES: number;
