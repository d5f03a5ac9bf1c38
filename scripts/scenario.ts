/**
 * `npm run scenario`: lists the scenario files (test/scenarios/), each with its one-line name and
 * whether it moves the clock.
 *
 * `npm run scenario -- <file> [--phone +1555…]`: plays one scenario file against the running stack
 * (`npm start`: its API and simulator, on its Temporal), printing each step and every transition of
 * the onboarding, and checking the file's expectations as `npm test` does. A customer's case,
 * written as a scenario, replays by hand this way.
 *
 * The running stack's clock cannot be moved: a scenario with `advance` steps plays only in
 * `npm test` (time-skipping server). Backend callbacks go to the stack's BACKEND_CALLBACK_URL, so
 * expectations on them are not checked here.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { httpTarget } from '../scenarios/http-target';
import { relative } from 'node:path';
import { listScenarios, loadScenario, ScenarioFileError, SCENARIOS_DIR } from '../scenarios/load';
import { movesClock } from '../scenarios/schema';
import { playScenario, ScenarioFailure } from '../scenarios/runner';

const usage = 'usage: npm run scenario -- <scenario file> [--phone +E164] [--api URL] [--simulator URL]';

/** The committed scenario files, one line each. */
function scenarioList(): string {
  const scenarios = listScenarios();
  const width = Math.max(...scenarios.map((s) => s.file.length));
  const clock = 'moves the clock';
  const dir = relative(process.cwd(), SCENARIOS_DIR) || '.';
  return [
    `Scenario files in ${dir}/; play one against the running stack (npm start) with`,
    `  npm run scenario -- ${dir}/<file> [--phone +E164]`,
    `Files marked "${clock}" play only in npm test (on the time-skipping server).`,
    '',
    ...scenarios.map((s) => `  ${s.file.padEnd(width)}  ${(s.movesClock ? clock : '').padEnd(clock.length)}  ${s.name}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { phone: { type: 'string' }, api: { type: 'string' }, simulator: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length === 0) {
    console.log(`${usage}\n\n${scenarioList()}`);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig();
  const scenario = loadScenario(positionals[0]!);
  if (values.phone) {
    if (!/^\+[1-9]\d{6,14}$/.test(values.phone)) {
      console.error(`--phone must be an E.164 number, not ${values.phone}`);
      return 2;
    }
    scenario.phone = values.phone;
  }
  if (movesClock(scenario)) {
    console.error(
      `${scenario.file} moves the clock (advance): the running stack's Temporal cannot; npm test plays it on the time-skipping server`,
    );
    return 2;
  }
  const host = config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST;
  const target = httpTarget({
    name: 'the running stack',
    apiUrl: values.api ?? `http://${host}:${config.API_PORT}`,
    apiKey: config.BACKEND_API_KEY,
    simulatorUrl: values.simulator ?? `http://127.0.0.1:${config.SIMULATOR_PORT}`,
  });
  const existing = await target.onboarding(scenario.phone).catch((err: Error) => {
    throw new Error(
      `the API at ${values.api ?? `http://${host}:${config.API_PORT}`} cannot be reached (is npm start running?): ${err.message}`,
    );
  });
  if (existing.status === 200) {
    console.error(`${scenario.phone} already has an onboarding (${existing.body.stage}): pass --phone with a fresh number`);
    return 1;
  }
  console.log(`${scenario.name}  (${scenario.file}, ${scenario.phone})`);
  if (scenario.description) console.log(`  ${scenario.description.trim().replace(/\s*\n\s*/g, ' ')}`);
  const transcript = await playScenario(scenario, target, { print: (line) => console.log(line), expectTimeoutMs: 60_000 });
  console.log(`passed: ${transcript.stages.join(' → ')}; now ${transcript.finalState}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ScenarioFailure || err instanceof ScenarioFileError ? err.message : err);
    process.exit(1);
  },
);
