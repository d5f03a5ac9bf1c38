/**
 * `npm start` as a user runs it: one command brings up the Temporal dev server (with its Web UI),
 * the simulator, the worker and the API; a workflow started through the API is in Temporal;
 * `/openapi.json` answers and `npm run scenario` replays a scenario file against it; Ctrl-C stops
 * everything with exit code 0; the SQLite state survives a restart.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../config';
import { dataConverter } from '../../security/payload-codec';
import { stateQuery } from '../../contracts/machine-api';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';
import { eventually } from '../helpers/wait';

const apiKey = 'local-backend-api-key';
let stack: StackProcess | undefined;

afterEach(async () => {
  await stack?.stop('SIGKILL');
});

async function api(path: string, init: RequestInit = {}) {
  const response = await fetch(`${stack!.apiUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...init.headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function scenarioScript(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = resolve(__dirname, '..', '..');
  return new Promise((done) => {
    execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'scenario.ts'), ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('npm start runs the whole stack, starts a workflow through the API, and stops cleanly', async () => {
  const env = await stackEnvironment();
  stack = startStack(env);
  // The banner's last line: printed once the API answered its own /health.
  await stack.waitForLine(/^Ctrl-C stops everything\.$/);
  for (const part of ['Temporal dev server ready', 'Meta Graph API simulator listening', 'worker polling']) {
    expect(stack.lines.some((l) => l.includes(part))).toBe(true);
  }

  expect((await api('/health')).body).toEqual({ status: 'ok', temporal: 'serving' });
  // Prometheus: the API's /metrics (npm start's health check before the banner, and this one),
  // and Temporal's worker metrics on WORKER_METRICS_PORT.
  expect(await (await fetch(`${stack.apiUrl}/metrics`)).text()).toMatch(
    /^coexist_http_requests_total\{route="GET \/health",status="200"\} 2$/m,
  );
  await eventually(
    () => fetch(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`).then((r) => r.text()),
    (text) => /^temporal_worker_task_slots_available\{/m.test(text),
  );
  const openapi = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as { openapi: string; paths: object };
  expect(openapi.openapi).toBe('3.1.0');
  expect(openapi.paths).toHaveProperty(['/onboardings/{phoneNumber}']);
  const ui = await fetch(stack.uiUrl);
  expect(ui.status).toBe(200);

  const started = await api('/onboardings', { method: 'POST', body: JSON.stringify({ phoneNumber: '+15550783881' }) });
  expect(started.status).toBe(201);
  expect(started.body).toMatchObject({ id: 'onboarding:+15550783881', stage: 'prerequisites', status: 'active' });

  // Visible in the Web UI: listed by the UI server's own API, with its history readable there.
  const workflowId = 'onboarding:+15550783881';
  const listed = await eventually(
    async () =>
      (await (
        await fetch(
          `${stack!.uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId='${workflowId}'`)}`,
        )
      ).json()) as any,
    (body: any) => body.executions?.length === 1,
  );
  expect(listed.executions[0]).toMatchObject({
    type: { name: 'onboardingWorkflow' },
    status: 'WORKFLOW_EXECUTION_STATUS_RUNNING',
  });
  expect(listed.executions[0].searchAttributes.indexedFields).toHaveProperty('OnboardingStage');
  const history = (await (
    await fetch(`${stack.uiUrl}/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}/history`)
  ).json()) as any;
  expect(history.history.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');

  // `npm run scenario` replays a scenario file by hand against this stack, printing each transition.
  const played = await scenarioScript(['test/scenarios/onboarding-happy-path.yaml', '--phone', '+15550783882'], env);
  expect(played).toMatchObject({ code: 0, stderr: '' });
  expect(played.stdout).toMatch(/linking\.session → registration\.exchangingCode {2}\(signup\.finished\)/);
  expect(played.stdout).toMatch(/^passed: signup → linking → registration → sync → payment → active;/m);

  expect(await stack.stop('SIGINT')).toBe(0);
  expect(stack.lines.some((l) => l.includes('Temporal dev server stopped'))).toBe(true);

  // The SQLite file keeps the onboarding across a restart.
  stack = startStack(env);
  await stack.waitForLine(/API listening/);
  const again = await api('/onboardings/+15550783881');
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ stage: 'prerequisites' });
  const reconnect = await Connection.connect({ address: stack.temporalAddress });
  try {
    const view = await new Client({ connection: reconnect, dataConverter: dataConverter(loadConfig(env)) }).workflow
      .getHandle('onboarding:+15550783881')
      .query(stateQuery);
    expect(view.state).toBe('prerequisites');
  } finally {
    await reconnect.close();
  }
  expect(await stack.stop('SIGTERM')).toBe(0);
});

test('a bad configuration stops start-up naming the variable and the reason', async () => {
  stack = startStack({ ...(await stackEnvironment()), API_PORT: 'eighty' });
  const line = await stack.waitForLine(/API_PORT/);
  expect(line).toMatch(/API_PORT: .+/);
  // It exits by itself; a signal sent meanwhile would race the exit.
  expect(await stack.exited).toBe(1);
});
