/** `npm run bench`: every benchmark in turn, each in its own process with its own stack. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const BENCHMARKS = ['webhooks', 'interpreter', 'pacing', 'scale', 'onboarding', 'backlog'] as const;

const failed: string[] = [];
for (const name of BENCHMARKS) {
  const started = Date.now();
  console.log(`\n=== bench:${name} ===`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, `${name}.ts`), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  console.log(
    `=== bench:${name}: exit ${run.status ?? run.signal} after ${((Date.now() - started) / 60_000).toFixed(1)} min ===`,
  );
  if (run.status !== 0) failed.push(name);
}
if (failed.length) console.error(`failed runs: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
