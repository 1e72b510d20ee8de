import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const MIB = 1024 * 1024;
/** Where the container's memory limit is read: cgroup v2, then v1. */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
/** A v1 "no limit" is a huge number rather than `max`. */
const NO_LIMIT_ABOVE = 2 ** 60;

export interface MemoryBudget {
  /** The container's (cgroup's) memory limit, in bytes; undefined without one. */
  limitBytes: number | undefined;
  /** The most V8 lets the heap grow to, in bytes. */
  heapLimitBytes: number;
}

/**
 * The memory the process may use and the heap V8 will grow to: in the image, the start script sets
 * the heap from the cgroup limit (3/8 of it); elsewhere Node's own sizing holds (docs/operations.md).
 */
export function memoryBudget(readLimit: (path: string) => string | undefined = readIfPresent): MemoryBudget {
  let limitBytes: number | undefined;
  for (const path of CGROUP_LIMIT_FILES) {
    const text = readLimit(path)?.trim();
    if (text !== undefined && text !== '') {
      const value = Number(text);
      limitBytes = Number.isFinite(value) && value > 0 && value < NO_LIMIT_ABOVE ? value : undefined;
      break;
    }
  }
  return { limitBytes, heapLimitBytes: getHeapStatistics().heap_size_limit };
}

/** The start-up line: the limit, the heap's ceiling and its share of the limit. */
export function memoryBudgetLine({ limitBytes, heapLimitBytes }: MemoryBudget): string {
  const heap = `V8 heap limit ${Math.round(heapLimitBytes / MIB)} MiB`;
  if (limitBytes === undefined) {
    return `memory: no container limit; ${heap}`;
  }
  return `memory: container limit ${Math.round(limitBytes / MIB)} MiB; ${heap} (${Math.round((heapLimitBytes / limitBytes) * 100)}% of it)`;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
