import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports';

export interface StackProcess {
  child: ChildProcess;
  env: Record<string, string>;
  apiUrl: string;
  uiUrl: string;
  simulatorUrl: string;
  temporalAddress: string;
  /** Every log line so far. */
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the stack exits by itself. */
  exited: Promise<number | null>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Free ports and a fresh data folder for one `npm start` stack. */
export async function stackEnvironment(): Promise<Record<string, string>> {
  return {
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    TEMPORAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'coexist-data-')),
    LOG_LEVEL: 'info',
  };
}

/** Runs `scripts/start.ts` (what `npm start` runs) as a child process, as a user would. */
export function startStack(env: Record<string, string>): StackProcess {
  const root = resolve(__dirname, '..', '..');
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'start.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    env,
    lines,
    apiUrl: `http://127.0.0.1:${env.API_PORT}`,
    uiUrl: `http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}`,
    simulatorUrl: `http://127.0.0.1:${env.SIMULATOR_PORT}`,
    temporalAddress: `127.0.0.1:${env.TEMPORAL_DEV_SERVER_PORT}`,
    exited,
    waitForLine(pattern, timeoutMs = 90_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolveLine(l)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the stack exited (${code}) before ${pattern}:\n${lines.slice(-30).join('\n')}`));
        });
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
