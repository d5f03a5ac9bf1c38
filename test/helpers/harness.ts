/**
 * The real parts on one machine, for scenario tests: a Temporal dev server, the worker with the
 * real activities, the API over HTTP, the Graph API simulator over HTTP (sending signed webhooks
 * to the API), and a backend that receives signed callbacks. No mocks.
 */
import { createServer, type Server } from 'node:http';
import { Worker } from '@temporalio/worker';
import { workerSinks } from '../../observability/worker-metrics';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../activities';
import { startPushDispatcher } from '../../activities/backend-push';
import type { CredentialsLookup } from '../../activities/conversations';
import type { OnboardingContext } from '../../machines/onboarding';
import { onboardingWorkflowId } from '../../contracts/ids';
import { stateQuery, type MachineView } from '../../contracts/machine-api';
import { openMessageStore } from '../../store';
import { createApp } from '../../api/app';
import { startWebhookDispatcher } from '../../api/webhooks/dispatcher';
import { loadConfig, type Config } from '../../config';
import { createSimulator } from '../../simulator/app';
import { startCallbackReceiver } from './callback-receiver';
import { devServerEnvironment, testDataConverter, timeSkippingEnvironment, workflowBundle } from './temporal';
import { eventually } from './wait';

export const API_KEY = 'scenario-backend-api-key';

export interface HarnessOptions {
  /**
   * The time-skipping test server instead of the dev server, for scenarios that span days. It has
   * no Workflow Updates, so such scenarios send events by signal and use the API only to start and read.
   */
  timeSkipping?: boolean;
  /** Configuration variables over the harness's own. */
  env?: Record<string, string>;
  /** TEST ONLY: the worker's sends ignore the sender's pacing (activities/index.ts), to prove the rate checks bite. */
  testOnlyUnpacedSends?: boolean;
}

export async function startHarness({
  timeSkipping = false,
  env: overrides = {},
  testOnlyUnpacedSends = false,
}: HarnessOptions = {}) {
  const env: TestWorkflowEnvironment = await (timeSkipping ? timeSkippingEnvironment() : devServerEnvironment());
  // The API's port is taken before anything is told it (a port merely seen free can be taken by
  // another suite's server before the API binds it); the app answers on it once it exists.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const apiPort = (server.address() as { port: number }).port;
  const callbacks = await startCallbackReceiver('scenario-callback-secret');
  const simulator = createSimulator({
    appId: '1000000000000001',
    appSecret: 'scenario-meta-app-secret',
    webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/meta`,
    webhookRetryIntervalMs: 200,
  });
  const sim = await simulator.listen(0);
  const config: Config = loadConfig({
    TEMPORAL_TASK_QUEUE: 'scenarios',
    API_PORT: String(apiPort),
    BACKEND_API_KEY: API_KEY,
    BACKEND_CALLBACK_URL: callbacks.url,
    BACKEND_CALLBACK_SECRET: 'scenario-callback-secret',
    META_GRAPH_BASE_URL: sim.url,
    META_APP_ID: '1000000000000001',
    META_APP_SECRET: 'scenario-meta-app-secret',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'memory://',
    ...overrides,
  });
  const log = pino({ level: 'silent' });
  const store = await openMessageStore(config);
  const dispatcher = startWebhookDispatcher({ client: env.client, store, taskQueue: config.TEMPORAL_TASK_QUEUE, log });
  const app = createApp({ config, client: env.client, store, log, dispatcher });
  server.on('request', app);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: await workflowBundle(require.resolve('../../workflows/index')),
    dataConverter: testDataConverter,
    sinks: workerSinks(),
    activities: createActivities(config, {
      client: env.client,
      store,
      // The time-skipping server has no visibility (ListWorkflowExecutions): the simulator knows the number.
      ...(timeSkipping ? { credentials: onboardingOfSimulatedNumber(env, simulator) } : {}),
      testOnlyUnpacedSends,
    }),
  });
  const running = worker.run();
  const pushes = startPushDispatcher({ config, store, log }, { idleMs: 50 });
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const { api, sim: sim$ } = jsonClients(apiUrl, API_KEY, sim.url);

  return {
    env,
    config,
    store,
    simulator,
    callbacks,
    apiUrl,
    simulatorUrl: sim.url,
    api,
    sim: sim$,
    /** Reads the onboarding until `accept` holds (real time; the worker runs in this process). */
    onboardingWhen(phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 30_000) {
      return eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, {
        timeoutMs,
        intervalMs: 100,
      });
    },
    async stop() {
      await pushes.stop();
      await dispatcher.stop();
      worker.shutdown();
      await running;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await sim.close();
      await callbacks.close();
      await store.close();
      await env.teardown();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** The API (with its key) and the simulator's `/_sim` controls, in JSON. */
export function jsonClients(apiUrl: string, apiKey: string, simulatorUrl: string) {
  return {
    api: (method: string, path: string, body?: unknown) => http(apiUrl, method, path, body, { 'x-api-key': apiKey }),
    sim: (method: string, path: string, body?: unknown) => http(simulatorUrl, method, `/_sim${path}`, body),
  };
}

/** A JSON request and its parsed answer. */
export async function http(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined };
}

/** The onboarding and sealed token of a phone number id the simulator gave out, by the onboarding's state query. */
function onboardingOfSimulatedNumber(
  env: TestWorkflowEnvironment,
  simulator: ReturnType<typeof createSimulator>,
): CredentialsLookup {
  return async (phoneNumberId) => {
    const n = simulator.world.byPhoneNumberId(phoneNumberId);
    if (!n) return undefined;
    const workflowId = onboardingWorkflowId(n.phoneNumber);
    const view = (await env.client.workflow.getHandle(workflowId).query(stateQuery)) as MachineView<OnboardingContext>;
    return view.context.sealedToken ? { workflowId, sealedToken: view.context.sealedToken } : undefined;
  };
}
