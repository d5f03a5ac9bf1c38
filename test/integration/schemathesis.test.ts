/**
 * Schemathesis (PyPI, pinned: scripts/schemathesis.ts) generates requests for every operation of
 * `/openapi.json`, valid and invalid, against the real API on a real dev server and simulator, with
 * the backend key and an ops token: not one answer may be a server error.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureSchemathesis } from '../../scripts/schemathesis';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';

const run = promisify(execFile);
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.api('POST', '/onboardings', { phoneNumber: '+15550200001' });
});

afterAll(async () => {
  await h?.stop();
});

test('no generated request gets a server error, on every operation of the document', async () => {
  const st = ensureSchemathesis();
  const args = [
    ...st.args,
    'run',
    `${h.apiUrl}/openapi.json`,
    '--checks',
    'not_a_server_error',
    '--max-examples',
    process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '15',
    '--workers',
    '1',
    '--seed',
    '20261202',
    '--header',
    `X-Api-Key: ${API_KEY}`,
    '--header',
    `Authorization: Bearer ${h.config.OPS_TOKENS[0]!.token}`,
    '--request-timeout',
    '30',
    '--no-color',
  ];
  const result = await run(st.command, args, { env: st.env, maxBuffer: 64 << 20 }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
  const summary = result.stdout
    .split('\n')
    .filter((l) => /passed|failed|generated|Tested/.test(l))
    .map((l) => l.trim())
    .join('; ');
  console.log(`schemathesis: ${summary}`);
  expect({ code: result.code, out: result.code === 0 ? '' : `${result.stdout}\n${result.stderr}` }).toEqual({ code: 0, out: '' });
  // Every operation schemathesis found in the document was tested.
  const [, selected, total] = /Selected: (\d+)\/(\d+)/.exec(result.stdout) ?? [];
  expect([Number(selected), /Tested: (\d+)/.exec(result.stdout)?.[1]]).toEqual([Number(total), total]);
  expect(Number(/(\d+) generated/.exec(result.stdout)?.[1])).toBeGreaterThan(Number(total) * 10);
}, 600_000);
