/**
 * Temporal as an operator runs it, on a PostgreSQL server: its two databases created and migrated
 * by the SQL tool (deploy/temporal/schema.sh), the server built from source
 * (scripts/cluster-binaries.ts) running deploy/temporal/config.yaml, and coexist's namespace and
 * search attributes registered by `scripts/temporal-setup.ts`. For the cluster test
 * (./cluster.ts) and the benchmarks' cluster mode (bench/lib/stack.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { ensureClusterBinaries } from '../../scripts/cluster-binaries';
import { freePort } from '../helpers/ports';
import { ROOT, spawnTs, watchProcess, type WatchedProcess } from '../helpers/processes';
import { eventually } from '../helpers/wait';

export const TEMPORAL_CONFIG = join(ROOT, 'deploy', 'temporal', 'config.yaml');
export const TEMPORAL_DYNAMIC_CONFIG = join(ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');
export const SCHEMA_SCRIPT = join(ROOT, 'deploy', 'temporal', 'schema.sh');
export const HAPROXY_CONFIG = join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg');

/** Runs a command to its end; fails with its output. */
export function run(file: string, args: string[], env: Record<string, string>): string {
  try {
    return execFileSync(file, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: err });
  }
}

export async function startTemporalCluster(postgresUrl: string, dir: string) {
  const binaries = ensureClusterBinaries();
  const pgUrl = new URL(postgresUrl);
  // Temporal's databases, as an operator creates and migrates them.
  const schemaLog = run('sh', [SCHEMA_SCRIPT], {
    SQL_TOOL: binaries.sqlTool,
    SCHEMA_DIR: binaries.schemaDir,
    SQL_HOST: pgUrl.hostname,
    SQL_PORT: pgUrl.port,
    SQL_USER: pgUrl.username,
    SQL_PASSWORD: '',
  });
  // The Temporal server: only where things are comes from the environment (deploy/temporal/config.yaml).
  const portNames = [
    'FRONTEND_GRPC_PORT',
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ];
  const serverEnv: Record<string, string> = {
    POSTGRES_SEEDS: pgUrl.hostname,
    DB_PORT: pgUrl.port,
    POSTGRES_USER: pgUrl.username,
    POSTGRES_PWD: '',
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: TEMPORAL_DYNAMIC_CONFIG,
    LOG_LEVEL: 'warn',
  };
  for (const name of portNames) serverEnv[name] = String(await freePort());
  const serverMetricsPort = await freePort();
  serverEnv.PROMETHEUS_ENDPOINT = `127.0.0.1:${serverMetricsPort}`;
  const temporalAddress = `127.0.0.1:${serverEnv.FRONTEND_GRPC_PORT}`;

  let server: WatchedProcess | undefined;
  const startServer = async () => {
    const child = spawn(binaries.server, ['--config-file', TEMPORAL_CONFIG, 'start'], {
      cwd: dir,
      env: { ...process.env, ...serverEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = watchProcess(child, 'temporal-server');
    const s = server;
    await eventually(
      async () => {
        if (s.child.exitCode !== null) throw new Error(`temporal-server exited:\n${s.lines.slice(-30).join('\n')}`);
        try {
          const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '2s' });
          try {
            await connection.workflowService.getSystemInfo({});
            return true;
          } finally {
            await connection.close();
          }
        } catch {
          return false;
        }
      },
      (ok) => ok,
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    return s;
  };
  await startServer();

  // coexist's namespace and search attributes: the project's own setup step.
  const setup = spawnTs('temporal-setup', 'scripts/temporal-setup.ts', { TEMPORAL_ADDRESS: temporalAddress });
  const setupExit = await setup.exited;
  if (setupExit.code !== 0) throw new Error(`temporal-setup failed:\n${setup.lines.join('\n')}`);
  const setupResult = JSON.parse(setup.lines.find((l) => l.includes('"temporal setup done"'))!);

  return {
    binaries,
    schemaLog,
    setupResult,
    address: temporalAddress,
    get server() {
      return server!;
    },
    /** SIGKILL, then the same server on the same ports and databases. */
    async restart() {
      await server?.kill('SIGKILL');
      return startServer();
    },
    /** Counters of the databases (pg_stat_database): commits, row writes, bytes. */
    async databaseCounters() {
      const c = new PgClient({ connectionString: postgresUrl });
      await c.connect();
      try {
        const { rows } = await c.query(
          `SELECT datname, xact_commit::bigint AS commits, (tup_inserted + tup_updated + tup_deleted)::bigint AS writes,
                  pg_database_size(datname)::bigint AS bytes
             FROM pg_stat_database WHERE datname IN ('temporal', 'temporal_visibility', 'coexist')`,
        );
        return Object.fromEntries(
          rows.map((r) => [r.datname, { commits: Number(r.commits), writes: Number(r.writes), bytes: Number(r.bytes) }]),
        ) as Record<string, { commits: number; writes: number; bytes: number }>;
      } finally {
        await c.end();
      }
    },
    /** The server's Prometheus metrics (text). */
    async metrics() {
      return (await fetch(`http://127.0.0.1:${serverMetricsPort}/metrics`)).text();
    },
    async stop() {
      await server?.kill('SIGKILL');
    },
  };
}

export type TemporalCluster = Awaited<ReturnType<typeof startTemporalCluster>>;
