/**
 * The Temporal server and its SQL schema tool for `npm run test:cluster`, built from source with
 * `go install` from the Go module proxy, as a fresh machine gets them. The binaries are kept in
 * the git-ignored `.cluster/bin` and built again only when missing or of another version (their
 * embedded module version says which). The schema files ship in the same module.
 *
 * `npm run cluster:binaries` builds them ahead (the first build takes minutes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The Temporal server version of the cluster test, and of docker-compose.yml's images. */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The module needs a newer Go than many machines have; the go command fetches this toolchain. */
const GO_TOOLCHAIN = 'go1.27.3';
const MODULE = 'go.temporal.io/server';

export const CLUSTER_DIR = resolve(__dirname, '..', '.cluster');

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  /** The version's `schema/postgresql/v12` folder (its `temporal/` and `visibility/` schemas). */
  schemaDir: string;
}

/** The `go install` packages, and the names the Temporal images give their binaries. */
const binaries = [
  { pkg: `${MODULE}/cmd/server`, built: 'server', name: 'temporal-server' },
  { pkg: `${MODULE}/cmd/tools/sql`, built: 'sql', name: 'temporal-sql-tool' },
] as const;

const goEnv = () => ({ ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN });

function go(args: string[], env: NodeJS.ProcessEnv = goEnv()): string {
  try {
    return execFileSync('go', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the go command is not installed (https://go.dev/doc/install)', { cause: err });
    throw new Error(`go ${args.join(' ')} failed:\n${e.stderr ?? e.message}`, { cause: err });
  }
}

/** The module version a Go binary was built from, or undefined. */
function builtVersion(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const info = go(['version', '-m', file]);
  return new RegExp(`^\\s*mod\\s+${MODULE.replace(/\./g, '\\.')}\\s+v(\\S+)`, 'm').exec(info)?.[1];
}

export function ensureClusterBinaries({ log = console.log }: { log?: (line: string) => void } = {}): ClusterBinaries {
  const bin = join(CLUSTER_DIR, 'bin');
  const files = binaries.map((b) => ({ ...b, file: join(bin, b.name) }));
  const stale = files.filter((f) => builtVersion(f.file) !== TEMPORAL_SERVER_VERSION);
  if (stale.length > 0) {
    const staging = join(CLUSTER_DIR, 'build');
    mkdirSync(staging, { recursive: true });
    for (const f of stale) {
      log(`building ${f.name} ${TEMPORAL_SERVER_VERSION} (go install ${f.pkg}; minutes the first time)`);
      const started = Date.now();
      go(['install', `${f.pkg}@v${TEMPORAL_SERVER_VERSION}`], { ...goEnv(), GOBIN: staging });
      mkdirSync(bin, { recursive: true });
      renameSync(join(staging, f.built), f.file);
      log(`built ${f.file} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  const moduleDir = JSON.parse(go(['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`])).Dir as string;
  const schemaDir = join(moduleDir, 'schema', 'postgresql', 'v12');
  if (!existsSync(join(schemaDir, 'temporal', 'versioned'))) throw new Error(`no PostgreSQL schema in ${moduleDir}`);
  return { server: files[0]!.file, sqlTool: files[1]!.file, schemaDir };
}

if (require.main === module) {
  const found = ensureClusterBinaries();
  console.log(`${found.server}\n${found.sqlTool}\nschema: ${found.schemaDir}`);
}
