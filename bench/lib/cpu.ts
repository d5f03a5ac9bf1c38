/**
 * CPU time of processes that are not children of the benchmark (the Temporal dev server, the
 * PostgreSQL server), read from /proc: the processes whose argv matches, their live descendants,
 * and the children they have already reaped (PostgreSQL's backends come and go).
 */
import { readdirSync, readFileSync } from 'node:fs';

const MICROS_PER_TICK = 1e6 / 100; // USER_HZ is 100 on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, ticks */
  own: number;
  /** cutime + cstime, ticks */
  reaped: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may hold spaces and parentheses: the fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      own: Number(fields[11]) + Number(fields[12]),
      reaped: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

function argvOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** CPU time (µs) of the process trees whose root's argv satisfies `match`; 0 without /proc. */
export function processTreeCpuMicros(match: (argv: string[]) => boolean): number {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return 0;
  }
  const stats = pids.map(procStat).filter((s): s is ProcStat => s !== undefined);
  const roots = new Set(stats.filter((s) => match(argvOf(s.pid))).map((s) => s.pid));
  const inTree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of stats) {
      if (!inTree.has(s.pid) && inTree.has(s.ppid)) {
        inTree.add(s.pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const s of stats) {
    if (!inTree.has(s.pid)) continue;
    ticks += s.own + (roots.has(s.pid) ? s.reaped : 0);
  }
  return ticks * MICROS_PER_TICK;
}
