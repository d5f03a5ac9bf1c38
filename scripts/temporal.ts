/**
 * `npm run temporal -- <arguments>` or `npx coexist temporal <arguments>`: the project's Temporal
 * CLI (the pinned binary in .temporal/bin, not one on PATH) pointed at this stack, so that
 * `temporal workflow list`, `show` and `signal` work as written in the README:
 *
 * - the address: TEMPORAL_ADDRESS, or `npm start`'s dev server on TEMPORAL_DEV_SERVER_PORT;
 * - the namespace: TEMPORAL_NAMESPACE;
 * - when the API answers: its codec endpoint (`/codec`) with the first of OPS_TOKENS, so that
 *   payloads print decrypted (`workflow show`, `workflow query`, …).
 *
 * They go to the CLI as its own environment variables, so a flag given on the command line
 * (`--address`, `--namespace`, `--codec-endpoint`, `--codec-auth`) still wins.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ConfigError, loadConfig, localApiUrl, temporalAddress, type Config } from '../config';
import { ensureTemporalBinaries } from './temporal-binaries';

const LOCAL_COMMANDS = ['server', 'help', 'completion', 'config', 'env', 'version', 'options'];

/** The Temporal CLI's environment for this stack; the codec only when the API is up to serve it. */
export function temporalCliEnvironment(config: Config, apiAnswers: boolean): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporalAddress(config),
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    ...(apiAnswers
      ? {
          TEMPORAL_CODEC_ENDPOINT: `${localApiUrl(config)}/codec`,
          TEMPORAL_CODEC_AUTH: `Bearer ${config.OPS_TOKENS[0]!.token}`,
        }
      : {}),
  };
}

async function apiAnswers(config: Config): Promise<boolean> {
  try {
    return (await fetch(`${localApiUrl(config)}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/** Runs the Temporal CLI with the arguments; resolves with its exit code. */
export async function runTemporal(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  const { cli } = ensureTemporalBinaries(env);
  // Commands that start a server, print help or a version, or edit the CLI's own settings connect to none.
  const connects =
    args.length > 0 &&
    !LOCAL_COMMANDS.includes(args[0]!) &&
    !args.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-v');
  const up = connects && (await apiAnswers(config));
  if (connects && !up)
    console.error(
      `(the API at ${localApiUrl(config)} does not answer: payloads print encrypted; start it with npm start to decrypt them)`,
    );
  // Variables the user set win over this stack's (TEMPORAL_CODEC_* are the CLI's own, not coexist's).
  const own = connects ? temporalCliEnvironment(config, up) : {};
  const childEnv = { ...env, ...own };
  for (const name of ['TEMPORAL_CODEC_ENDPOINT', 'TEMPORAL_CODEC_AUTH'] as const)
    if (env[name] !== undefined && env[name] !== '') childEnv[name] = env[name];
  const child = spawn(cli, args, { stdio: 'inherit', env: childEnv });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((done) =>
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0))),
  );
}

if (require.main === module) void runTemporal(process.argv.slice(2)).then((code) => process.exit(code));
