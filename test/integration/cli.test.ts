/**
 * The ops CLI as operators run it: the package's bin launcher (and `npx coexist` once) in a child
 * process, against the real API, worker and Temporal dev server of the harness.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startHarness, type Harness } from '../helpers/harness';
import { eventually } from '../helpers/wait';

const root = path.resolve(__dirname, '../..');
const launcher = path.join(root, 'bin', 'coexist.js');

let h: Harness;
const phone = '+15550177001';
const cancelled = '+15550177002';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The child's environment: this process's, without anything that would choose the API or token for it. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(COEXIST_|API_|OPS_TOKENS$)/.test(name)) delete env[name];
  }
  return { ...env, COEXIST_ENV: 'local', ...extra };
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `coexist <args>` through the bin launcher, with the harness's API. */
function coexist(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return exec(process.execPath, [launcher, ...args], cliEnv(env));
}
const withApi = (args: string[]) => coexist([...args, '--api', h.apiUrl]);

beforeAll(async () => {
  h = await startHarness();
  for (const phoneNumber of [phone, cancelled]) {
    const started = await h.api('POST', '/onboardings', { phoneNumber });
    if (started.status !== 201) throw new Error(`start ${phoneNumber}: ${JSON.stringify(started.body)}`);
  }
});

afterAll(async () => {
  await h?.stop();
});

test('the harness API takes the local default token the CLI falls back on', () => {
  expect(h.config.COEXIST_ENV).toBe('local');
  expect(h.config.OPS_TOKENS[0]!.token).toBe('local-ops-token-change-me');
});

test('list shows an onboarding started through the API (default local token)', async () => {
  // Visibility follows the workflow's search attributes a moment later.
  const listed = await eventually(
    () => withApi(['ops', 'list', '--stage', 'prerequisites']),
    (r) => r.code !== 0 || r.stdout.includes(phone),
    {
      timeoutMs: 30_000,
      intervalMs: 500,
    },
  );
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  const lines = listed.stdout.split('\n');
  expect(lines[0]).toMatch(/^PHONE\s+STAGE\s+SINCE\s+AGE\s+STUCK\s+LINK\s+WAITS ON\s+REASON\s+REMEDY$/);
  const row = lines.find((l) => l.startsWith(phone));
  expect(row).toMatch(
    new RegExp(`^\\${phone}\\s+prerequisites\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z\\s+\\d+s\\s+0\\s+business$`),
  );

  const json = await withApi(['ops', 'list', '--stage', 'prerequisites', '--json']);
  expect(json.code).toBe(0);
  const body = JSON.parse(json.stdout) as { onboardings: { id: string; phoneNumber: string; stage: string; stuck: boolean }[] };
  expect(body.onboardings).toContainEqual(
    expect.objectContaining({ id: `onboarding:${phone}`, phoneNumber: phone, stage: 'prerequisites', stuck: false }),
  );

  const stuck = await withApi(['ops', 'list', '--stuck']);
  expect(stuck.code).toBe(0);
  expect(stuck.stdout).not.toContain(phone);
});

test('show prints its state (API and token from the environment)', async () => {
  const token = h.config.OPS_TOKENS[0]!.token;
  const shown = await coexist(['ops', 'show', phone], { COEXIST_API_URL: h.apiUrl, COEXIST_OPS_TOKEN: token });
  expect(shown).toMatchObject({ code: 0, stderr: '' });
  expect(shown.stdout).toMatch(new RegExp(`^\\${phone} {2}onboarding:\\${phone}\n`));
  expect(shown.stdout).toMatch(/^ {2}stage +prerequisites, since /m);
  expect(shown.stdout).toMatch(/^ {2}state +prerequisites \(active\)$/m);
  expect(shown.stdout).toMatch(/^ {2}blocked +no$/m);
  // What it waits for, who must act, and the one repair prerequisites accepts (asked of the machine).
  expect(shown.stdout).toMatch(/^ {2}waits on +business: the backend's prerequisites report/m);
  expect(shown.stdout).toMatch(/^ {2}repairs +cancel$/m);
  expect(shown.stdout).toMatch(/^Timeline \(0\)$/m);
  expect(shown.stdout).toMatch(/^Pending timers$/m);
  expect(shown.stdout).toMatch(/^Activities$/m);

  const json = await coexist(['ops', 'show', phone.slice(1), '--json'], { COEXIST_API_URL: h.apiUrl, COEXIST_OPS_TOKEN: token });
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({
    id: `onboarding:${phone}`,
    stage: 'prerequisites',
    state: 'prerequisites',
    blocked: null,
  });
});

test('retry on a state that cannot take it exits 1 with the 409 reason, and nothing changes', async () => {
  const before = (await h.api('GET', `/onboardings/${phone}`)).body;
  const refused = await withApi(['ops', 'retry', phone]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/^error: event_refused: .*cannot take retry \(HTTP 409\)$/m);
  expect(refused.stderr).toMatch(/^ {2}the state accepts now: cancel$/m);

  // What the CLI printed is the API's own code and message.
  const direct = await fetch(`${h.apiUrl}/ops/onboardings/${encodeURIComponent(phone)}/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` },
    body: JSON.stringify({ action: 'retry' }),
  });
  const { error } = (await direct.json()) as { error: { code: string; message: string } };
  expect(direct.status).toBe(409);
  expect(refused.stderr).toContain(`error: ${error.code}: ${error.message} (HTTP 409)`);

  const after = (await h.api('GET', `/onboardings/${phone}`)).body;
  expect(after.timeline).toEqual(before.timeline);
  expect(after.state).toBe('prerequisites');
});

test('cancel is accepted and prints the onboarding after it', async () => {
  const done = await withApi(['ops', 'cancel', cancelled]);
  expect(done).toMatchObject({ code: 0, stderr: '' });
  expect(done.stdout).toMatch(new RegExp(`^cancel: accepted for \\${cancelled}\n`));
  expect(done.stdout).toMatch(/^ {2}state +cancelled /m);
  expect(done.stdout).toMatch(/prerequisites → cancelled +cancel {2}by ops:ops$/m);
  expect((await h.api('GET', `/onboardings/${cancelled}`)).body.stage).toBe('cancelled');
});

test('a bad token exits 1 with unauthorized', async () => {
  const denied = await coexist(['ops', 'list', '--api', h.apiUrl, '--token', 'not-an-ops-token-0123']);
  expect(denied.code).toBe(1);
  expect(denied.stdout).toBe('');
  expect(denied.stderr).toMatch(/^error: unauthorized: .* \(HTTP 401\)$/m);
});

test('an unknown onboarding exits 1 with not_found', async () => {
  const missing = await withApi(['ops', 'show', '+15550177999']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^error: not_found: .* \(HTTP 404\)$/m);
});

test('an unknown command exits 2 with the usage, through the bin launcher and through npx', async () => {
  const unknown = await withApi(['ops', 'dance', phone]);
  expect(unknown.code).toBe(2);
  expect(unknown.stdout).toBe('');
  expect(unknown.stderr).toMatch(/^error: unknown command: ops dance\n\nUsage: coexist ops <command>/);

  const npx = await exec('npx', ['--no-install', 'coexist', 'frobnicate'], cliEnv());
  expect(npx.code).toBe(2);
  expect(npx.stderr).toMatch(/error: unknown command: frobnicate\n\nUsage: coexist ops <command>/);
});
