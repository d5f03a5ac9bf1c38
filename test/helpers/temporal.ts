import type { ConnectionPlugin } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../config';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { dataConverter, FAILURE_CONVERTER_PATH } from '../../security/payload-codec';
import { devServerSearchAttributeArgs, onboardingSearchAttributes } from '../../contracts/search-attributes';

/** The production data converter with the local codec key: what test clients and workers use. */
export const testDataConverter = dataConverter(loadConfig({}));

// Workers log only warnings in tests; the Runtime can be installed once per process.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another test file in this process
}

/**
 * The time-skipping test server (grpc-java) permits a client ping every 5 minutes; the client's
 * default of 30 s makes it drop the connection for "excess pings" once a test file runs past a
 * minute or two, failing the calls in flight. Ping it less often than it permits.
 */
const timeSkippingKeepalive: ConnectionPlugin = {
  name: 'time-skipping-keepalive',
  configureConnection: (options) => ({
    ...options,
    channelArgs: { ...options.channelArgs, 'grpc.keepalive_time_ms': 6 * 60_000 },
  }),
};

/**
 * The time-skipping test server from the found binary (never the SDK's download), with the
 * onboarding search attributes registered (it takes no command-line flags for them).
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const { testServer } = ensureTemporalBinaries();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    client: { dataConverter: testDataConverter },
    server: { executable: { type: 'existing-path', path: testServer } },
    plugins: [timeSkippingKeepalive],
  });
  const { IndexedValueType } = temporal.api.enums.v1;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      onboardingSearchAttributes.map((k) => [
        k.name,
        IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}` as keyof typeof IndexedValueType],
      ]),
    ),
  });
  return env;
}

/**
 * A real dev server (what `npm start` runs, with its search attributes), in memory, on a free port;
 * its client uses the production data converter (payload codec and failure encoding).
 */
export function devServerEnvironment(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  const { cli } = ensureTemporalBinaries();
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: testDataConverter },
    server: {
      executable: { type: 'existing-path', path: cli },
      extraArgs: ['--log-level', 'error', ...devServerSearchAttributeArgs(), ...extraArgs],
    },
  });
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** Bundles a workflows module once per test file (bundling takes seconds). */
export function workflowBundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH, logger: quietLogger });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
