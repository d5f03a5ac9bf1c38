/**
 * Every benchmark runs with tiny sizes and must succeed (exit 0: no failed operation, nothing lost
 * or duplicated) and print its table with the right rows. Timing is not asserted: targets are
 * figures for BENCHMARKS.md, and this machine is shared.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function bench(name: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.ts`)], {
      cwd: root,
      env: { ...process.env, BENCH_WARMUP: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** The table's rows as `metric → cells`. */
function rows(output: string): Map<string, string[]> {
  return new Map(
    output
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| metric'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      )
      .map((cells) => [cells[0]!, cells.slice(1)]),
  );
}

// All six at once: each starts its own dev server and worker, and one after another would take minutes.
const runs = {
  webhooks: bench('webhooks', { BENCH_WEBHOOK_CUSTOMERS: '4', BENCH_WEBHOOK_MESSAGES: '2', BENCH_WEBHOOK_BULK: '20' }),
  interpreter: bench('interpreter', { BENCH_INTERPRETER_WORKFLOWS: '3', BENCH_INTERPRETER_EVENTS: '2' }),
  pacing: bench('pacing', {
    BENCH_PACING_SENDS: '25',
    BENCH_PACING_NUMBERS: '1',
    BENCH_PACING_SENDS_EACH: '10',
    BENCH_PACING_CUSTOMERS: '5',
  }),
  scale: bench('scale', { BENCH_SCALE_SIZES: '4', BENCH_SCALE_MESSAGES: '2' }),
  onboarding: bench('onboarding', { BENCH_ONBOARDINGS: '3' }),
  backlog: bench('backlog', {
    BENCH_BACKLOG: '30',
    BENCH_BACKLOG_BEYOND: '10',
    BENCH_BACKLOG_CUSTOMERS: '3',
    BENCH_BACKLOG_CONCURRENCY: '2',
  }),
};

const succeeded = async (name: keyof typeof runs) => {
  const run = await runs[name];
  if (run.code !== 0) throw new Error(`bench:${name} exited ${run.code}:\n${run.output.slice(-4000)}`);
  return rows(run.output);
};

jest.setTimeout(600_000);

test('webhooks: both halves (the answer and the application) of the API against raw signalWithStart, and one bulk delivery', async () => {
  const table = await succeeded('webhooks');
  expect([...table.keys()]).toEqual([
    'answer: throughput of 200s (webhooks/s)',
    'application: items applied in their workflows (items/s)',
    'answer: time to 200 p50 (ms)',
    'answer: time to 200 p99 (ms)',
    '503 answers tried again',
    'CPU per webhook, caller of Temporal (ms)',
    'CPU per webhook, HTTP load generator (ms)',
    'one delivery of 20 messages: time to 200 (ms)',
    'one delivery of 20 messages: time to applied (ms)',
  ]);
  const applied = table.get('application: items applied in their workflows (items/s)')!;
  expect(applied[3]).toBe('ratio >= 0.9');
  expect(Number(applied[0])).toBeGreaterThan(0);
  expect(Number(table.get('answer: throughput of 200s (webhooks/s)')![0])).toBeGreaterThan(0);
});

test('interpreter: CPU per event, task latency and replay against the hand-written workflow', async () => {
  const table = await succeeded('interpreter');
  expect([...table.keys()]).toEqual([
    'worker CPU per event (ms)',
    'workflow-task latency p50 (ms)',
    'workflow-task latency p99 (ms)',
    'workflow-task execution p50 (ms)',
    'workflow-task execution p99 (ms)',
    'workflow tasks',
    'replay per history (ms)',
  ]);
  expect(Number(table.get('worker CPU per event (ms)')![1])).toBeGreaterThan(0);
});

test('pacing: every send reaches Meta once, within 20 per second, for one number, then for each of several', async () => {
  const table = await succeeded('pacing');
  // Both read from the send requests the simulator received, accepted or refused (bench/pacing.ts).
  expect(Number(table.get('1 number: 130429 answers')![1])).toBe(0);
  expect(table.get('1 numbers, slowest: sustained rate (msg/s)')![3]).toBe('ratio >= 0.975');
  expect(Number(table.get('1 number: busiest one-second interval (msg)')![1])).toBeLessThanOrEqual(20);
  // Per number: what the simulator accepted, and the sender's own count of accepted sends.
  expect(table.get('+15550880000')![0]).toBe('25');
  expect(table.get('+15550880000')![4]).toBe('25');
});

test('scale: a row per N and the comparison of the largest N with the smallest', async () => {
  const run = await runs.scale;
  const table = await succeeded('scale');
  expect(run.output).toMatch(/\| 4 +\| \d/);
  expect([...table.keys()]).toEqual(
    expect.arrayContaining([
      'worker RSS (MB)',
      'webhook throughput (webhooks/s)',
      'server disk (MB)',
      'longest history of any run (events)',
    ]),
  );
});

test('onboarding: onboardings to Active against bare workflows', async () => {
  const table = await succeeded('onboarding');
  expect([...table.keys()]).toEqual([
    'completed per second (/s)',
    'time per onboarding p50 (ms)',
    'time per onboarding p99 (ms)',
    'worker CPU per onboarding (ms)',
    'API 503 answers tried again',
  ]);
});

test('backlog: held up to the depth, 429 beyond it, drained once within 20 per second', async () => {
  const table = await succeeded('backlog');
  expect(Number(table.get('sends accepted (202)')![1])).toBeGreaterThanOrEqual(30);
  expect(Number(table.get('sends beyond the depth answered 429')![1])).toBeGreaterThan(0);
  expect(Number(table.get('busiest one-second interval (msg)')![1])).toBeLessThanOrEqual(20);
  expect(table.get("sender's largest workflow input (bytes)")).toBeDefined();
});
