import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

/**
 * A throw-away PostgreSQL server for tests, from the binaries of the machine's `postgresql`
 * package (`apt-get install -y postgresql`), started with initdb / pg_ctl in a temp dir on a free
 * port; no Docker. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The directory with initdb and pg_ctl, or why there is none. */
export function findPostgres(): { binDir: string } | { missing: string } {
  const candidates = [
    process.env.POSTGRES_BIN_DIR,
    ...['/usr/lib/postgresql'].filter(existsSync).flatMap((root) =>
      readdirSync(root)
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(root, v, 'bin')),
    ),
    ...(process.env.PATH ?? '').split(':'),
  ].filter((d): d is string => !!d);
  const binDir = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!binDir)
    return {
      missing: 'initdb / pg_ctl not found (POSTGRES_BIN_DIR, /usr/lib/postgresql/*/bin, PATH); apt-get install -y postgresql',
    };
  if (userInfo().uid === 0 && !hasUser('postgres'))
    return { missing: 'running as root and there is no postgres user to run the server as' };
  return { binDir };
}

export async function startPostgres(binDir: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'coexist-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const run = (bin: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, bin), ...args]] : [join(binDir, bin), args];
    execFileSync(file as string, argv as string[], { cwd: dir, stdio: 'pipe' });
  };
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'coexist', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync']);
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL from ${binDir}: ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`, {
      cause: err,
    });
  }
  return {
    url: `postgres://coexist@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function hasUser(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
