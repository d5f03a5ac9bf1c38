/**
 * `npm start` is all or nothing. A port in use stops it before anything starts, in one line naming
 * the variable to change (no stack trace). A part that fails to start stops every part started
 * before it: no process and no port is left behind. A Temporal server already on the dev server's
 * port is refused, never adopted, unless TEMPORAL_ADDRESS names it; then it is used and left running.
 */
import { createServer, type Server } from 'node:net';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../../config';
import { devServerSearchAttributeArgs } from '../../contracts/search-attributes';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { freePort } from '../helpers/ports';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';

let stack: StackProcess | undefined;
let blocker: Server | undefined;
let temporal: DevServer | undefined;

afterEach(async () => {
  await stack?.stop('SIGKILL');
  stack = undefined;
  await new Promise((done) => (blocker ? blocker.close(done) : done(undefined)));
  blocker = undefined;
  await temporal?.kill();
  temporal = undefined;
});

/** Whether nothing listens on the port (this process can take it). */
function free(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

const stackPorts = (env: Record<string, string>) =>
  ['TEMPORAL_DEV_SERVER_PORT', 'TEMPORAL_DEV_UI_PORT', 'SIMULATOR_PORT', 'WORKER_METRICS_PORT', 'API_PORT'].map((v) =>
    Number(env[v]),
  );

test('a port in use: one line naming the variable, nothing started, nothing left running', async () => {
  const env = await stackEnvironment();
  blocker = createServer();
  await new Promise<void>((done) => blocker!.listen(Number(env.API_PORT), '127.0.0.1', done));

  stack = startStack(env);
  expect(await stack.exited).toBe(1);
  expect(stack.lines).toEqual([
    `npm start: API_PORT=${env.API_PORT}: 127.0.0.1:${env.API_PORT} is in use: set API_PORT to a free port`,
  ]);
  for (const port of stackPorts(env).filter((p) => p !== Number(env.API_PORT))) expect(await free(port)).toBe(true);
});

test('a part that fails to start stops every part started before it, and says which failed in one line', async () => {
  // Nothing listens on this PostgreSQL port: the message store fails after the dev server and simulator started.
  const env = { ...(await stackEnvironment()), DATABASE_URL: `postgres://coexist:x@127.0.0.1:${await freePort()}/coexist` };
  stack = startStack(env);
  expect(await stack.exited).toBe(1);
  const failure = stack.lines.filter((l) => l.startsWith('npm start: '));
  expect(failure).toHaveLength(1);
  expect(failure[0]).toMatch(/^npm start: the message store \(DATABASE_URL\) did not start: .*ECONNREFUSED/);
  expect(stack.lines.some((l) => /^\s+at /.test(l))).toBe(false);
  for (const part of ['Temporal dev server ready', 'Meta Graph API simulator listening']) {
    expect(stack.lines.some((l) => l.includes(part))).toBe(true);
  }
  for (const part of ['simulator stopped', 'Temporal dev server stopped', 'codec relay stopped']) {
    expect(stack.lines.some((l) => l.includes(part))).toBe(true);
  }
  for (const port of stackPorts(env)) expect({ port, free: await free(port) }).toEqual({ port, free: true });
});

test('a Temporal server already on the port is refused, and used only when TEMPORAL_ADDRESS names it', async () => {
  const env = await stackEnvironment();
  // A leftover dev server (as a failed start used to leave), on the port npm start would use.
  temporal = await startDevServer(
    loadConfig({
      TEMPORAL_DEV_SERVER_PORT: env.TEMPORAL_DEV_SERVER_PORT,
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      TEMPORAL_DATA_DIR: env.TEMPORAL_DATA_DIR,
    }),
    ensureTemporalBinaries().cli,
    devServerSearchAttributeArgs(),
  );

  stack = startStack(env);
  expect(await stack.exited).toBe(1);
  const address = `127.0.0.1:${env.TEMPORAL_DEV_SERVER_PORT}`;
  expect(stack.lines).toEqual([
    `npm start: TEMPORAL_DEV_SERVER_PORT=${env.TEMPORAL_DEV_SERVER_PORT}: ${address} is in use: set TEMPORAL_DEV_SERVER_PORT to a free port, or, to use the Temporal server listening there, TEMPORAL_ADDRESS=${address}`,
  ]);

  // Named by TEMPORAL_ADDRESS, it is used (no dev server of npm start's own, no Web UI) and outlives the stack.
  stack = startStack({ ...env, TEMPORAL_ADDRESS: address, DATABASE_URL: 'memory://' });
  await stack.waitForLine(/^Ctrl-C stops everything\.$/);
  expect(stack.lines.some((l) => l.includes('using the Temporal server at TEMPORAL_ADDRESS'))).toBe(true);
  expect(stack.lines.some((l) => l.includes('Temporal dev server ready'))).toBe(false);
  const started = await fetch(`${stack.apiUrl}/onboardings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'local-backend-api-key' },
    body: JSON.stringify({ phoneNumber: '+15550731001' }),
  });
  expect(started.status).toBe(201);
  expect(await stack.stop('SIGINT')).toBe(0);
  stack = undefined;
  const connection = await Connection.connect({ address });
  try {
    const described = await connection.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId: 'onboarding:+15550731001' },
    });
    expect(described.workflowExecutionInfo?.execution?.workflowId).toBe('onboarding:+15550731001');
  } finally {
    await connection.close();
  }
});
