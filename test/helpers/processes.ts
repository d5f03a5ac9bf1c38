import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WatchedProcess {
  child: ChildProcess;
  /** The latest log lines (the last 500). */
  lines: string[];
  exited: Promise<Exit>;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal (unless the process already ended) and resolves with how it exited. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  /** Resident memory now, from /proc (Linux), in bytes. */
  rssBytes(): number | undefined;
}

/** Collects a child's output lines and lets a test wait for one. */
export function watchProcess(child: ChildProcess, name: string): WatchedProcess {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const split = text.split('\n');
    partial = split.pop()!;
    for (const line of split.filter(Boolean)) {
      lines.push(line);
      if (lines.length > 500) lines.shift();
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<Exit>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return {
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 120_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolveLine(l)) });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code ?? signal}) before ${pattern}:\n${lines.slice(-30).join('\n')}`));
        });
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    rssBytes() {
      try {
        const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Runs a TypeScript entry point of this repository in its own node process (`node --import tsx`,
 * no wrapper process), so that a signal reaches the process itself.
 */
export function spawnTs(name: string, script: string, env: Record<string, string>, args: string[] = []): WatchedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchProcess(child, name);
}
