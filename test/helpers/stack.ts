import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports';
import { watchProcess } from './processes';

export interface StackProcess {
  child: ChildProcess;
  env: Record<string, string>;
  apiUrl: string;
  uiUrl: string;
  simulatorUrl: string;
  temporalAddress: string;
  /** The latest log lines (the last 500). */
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The exit code, once the stack exited by itself or by a signal. */
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
  const watched = watchProcess(child, 'npm start');
  return {
    child,
    env,
    lines: watched.lines,
    apiUrl: `http://127.0.0.1:${env.API_PORT}`,
    uiUrl: `http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}`,
    simulatorUrl: `http://127.0.0.1:${env.SIMULATOR_PORT}`,
    temporalAddress: `127.0.0.1:${env.TEMPORAL_DEV_SERVER_PORT}`,
    exited: watched.exited.then(({ code }) => code),
    waitForLine: (pattern, timeoutMs = 90_000) => watched.waitForLine(pattern, timeoutMs),
    async stop(signal = 'SIGINT') {
      return (await watched.kill(signal)).code;
    },
  };
}
