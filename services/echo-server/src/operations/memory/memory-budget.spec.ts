import { memoryBudget, memoryBudgetLine } from './memory-budget';

describe('memoryBudget', () => {
  const files = (entries: Record<string, string>) => (path: string) => entries[path];

  it('reads the cgroup v2 limit', () => {
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory.max': '536870912\n' })).limitBytes).toBe(512 * 1024 * 1024);
  });

  it('takes "max" and a v1 huge number as no limit, and reads a v1 limit', () => {
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory.max': 'max\n' })).limitBytes).toBeUndefined();
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })).limitBytes).toBeUndefined();
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456' })).limitBytes).toBe(256 * 1024 * 1024);
    expect(memoryBudget(files({})).limitBytes).toBeUndefined();
  });

  it('says the limit, the heap ceiling and its share', () => {
    const MIB = 1024 * 1024;
    expect(memoryBudgetLine({ limitBytes: 512 * MIB, heapLimitBytes: 259 * MIB })).toBe(
      'memory: container limit 512 MiB; V8 heap limit 259 MiB (51% of it)',
    );
    expect(memoryBudgetLine({ limitBytes: undefined, heapLimitBytes: 4144 * MIB })).toBe(
      'memory: no container limit; V8 heap limit 4144 MiB',
    );
    expect(memoryBudget().heapLimitBytes).toBeGreaterThan(0);
  });
});
