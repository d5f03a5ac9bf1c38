import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface DevServer {
  address: string;
  uiUrl: string;
  dbFile: string;
  /** SIGTERM, then waits for the process to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: the SQLite file keeps what was committed. */
  kill(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` with its state in a SQLite file under TEMPORAL_DATA_DIR, so
 * workflows survive a restart, and waits until the frontend answers health checks.
 */
export async function startDevServer(
  config: Config,
  cliPath: string,
  extraArgs: string[] = [],
  /** Told how to stop the process as soon as it runs, before it serves (a stop asked for during start-up). */
  onSpawn?: (stop: () => Promise<void>) => void,
): Promise<DevServer> {
  const dataDir = resolve(config.TEMPORAL_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const dbFile = resolve(dataDir, 'temporal.sqlite');
  const address = `127.0.0.1:${config.TEMPORAL_DEV_SERVER_PORT}`;
  const child = spawn(
    cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(config.TEMPORAL_DEV_SERVER_PORT),
      '--ui-port',
      String(config.TEMPORAL_DEV_UI_PORT),
      '--ui-disable-news-fetch',
      '--db-filename',
      dbFile,
      '--namespace',
      config.TEMPORAL_NAMESPACE,
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    stderr.splice(0, stderr.length - 20);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  onSpawn?.(() => stopProcess(child, exited));

  await waitUntilServing(address, child, exited, stderr);
  return {
    address,
    uiUrl: `http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`,
    dbFile,
    stop: () => stopProcess(child, exited),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  stderr: string[],
): Promise<void> {
  let failed = false;
  exited.then(() => (failed = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (failed) throw new Error(`the Temporal dev server exited (code ${child.exitCode}):\n${stderr.join('')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1s' });
      try {
        await connection.healthService.check({});
        // Serving, but maybe another server on the port while this one failed to bind: never adopt it.
        if (child.exitCode !== null || child.signalCode !== null) failed = true;
        else return;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the Temporal dev server did not answer on ${address} within 60 s:\n${stderr.join('')}`);
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
