/**
 * Replays one workflow's history, fetched from the configured Temporal, against the workflow code
 * as it is now: does a deployed change break a workflow that is already running (or ran)?
 *
 *   npm run replay -- <workflowId> [--run-id <runId>] [--workflows <module>]
 *
 * The server is the configured one (`TEMPORAL_ADDRESS`, else the local dev server;
 * `TEMPORAL_NAMESPACE`). `--workflows` replays against another workflows module than
 * `workflows/index.ts` (tests point it at `test/workflows/`).
 *
 * Exit codes: 0 replays cleanly; 1 the code diverges from the history (the event is named), the
 * workflow is unknown, the replay fails otherwise (e.g. the module lacks the workflow type), or
 * the server cannot be reached; 2 usage or configuration error.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { ConfigError, loadConfig, temporalAddress } from '../config';
import { dataConverter } from '../security/payload-codec';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: npm run replay -- <workflowId> [--run-id <runId>] [--workflows <module>]

Replays the workflow's history from Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE) against the
current workflow code and says whether it replays cleanly or where it diverges.

Options:
  --run-id R       that run (default: the latest run of the workflow id)
  --workflows M    the workflows module to replay against (default: workflows/index.ts)
  -h, --help       this text

Exit codes: 0 replays cleanly, 1 diverges / unknown workflow / replay failed / server unreachable,
2 usage or configuration error.`;

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ReplayArgs {
  workflowId: string;
  runId?: string;
  workflowsPath: string;
}

export class UsageError extends Error {}

/** Arguments to options; throws UsageError on anything else. */
export function parseReplayArgs(argv: string[], cwd = process.cwd()): ReplayArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'run-id': { type: 'string' },
        workflows: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1 || !positionals[0]) {
    throw new UsageError(
      positionals.length === 0
        ? 'a workflow id is required'
        : `one workflow id, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  if (values['run-id'] !== undefined && !values['run-id'].trim()) throw new UsageError('--run-id needs a run id');
  let workflowsPath = require.resolve('../workflows');
  if (values.workflows !== undefined) {
    workflowsPath = resolve(cwd, values.workflows);
    if (!existsSync(workflowsPath)) throw new UsageError(`--workflows: no such module: ${values.workflows}`);
  }
  return { workflowId: positionals[0], ...(values['run-id'] ? { runId: values['run-id'] } : {}), workflowsPath };
}

/** `EVENT_TYPE_TIMER_STARTED` (or its number) → `TimerStarted`, the SDK's own spelling. */
export function eventTypeName(type: HistoryEvent['eventType']): string {
  const name = typeof type === 'number' ? temporal.api.enums.v1.EventType[type] : String(type ?? 'unknown');
  if (!name) return `event type ${String(type)}`;
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** What an event is about, in a few words: the activity, timer, signal or marker it names. */
export function describeEvent(event: HistoryEvent): string {
  const parts = [`event ${String(event.eventId)} (${eventTypeName(event.eventType)}`];
  if (event.activityTaskScheduledEventAttributes) {
    parts.push(
      `, activity ${event.activityTaskScheduledEventAttributes.activityType?.name} id ${event.activityTaskScheduledEventAttributes.activityId}`,
    );
  } else if (event.timerStartedEventAttributes) {
    const timeout = event.timerStartedEventAttributes.startToFireTimeout;
    const ms = timeout ? Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6) : undefined;
    parts.push(`, timer ${event.timerStartedEventAttributes.timerId}${ms !== undefined ? ` for ${ms} ms` : ''}`);
  } else if (event.timerCanceledEventAttributes) {
    parts.push(`, timer ${event.timerCanceledEventAttributes.timerId}`);
  } else if (event.timerFiredEventAttributes) {
    parts.push(`, timer ${event.timerFiredEventAttributes.timerId}`);
  } else if (event.workflowExecutionSignaledEventAttributes) {
    parts.push(`, signal ${event.workflowExecutionSignaledEventAttributes.signalName}`);
  } else if (event.markerRecordedEventAttributes) {
    parts.push(`, marker ${event.markerRecordedEventAttributes.markerName}`);
  } else if (event.startChildWorkflowExecutionInitiatedEventAttributes) {
    parts.push(`, child ${event.startChildWorkflowExecutionInitiatedEventAttributes.workflowType?.name}`);
  } else if (event.workflowExecutionStartedEventAttributes) {
    parts.push(`, workflow type ${event.workflowExecutionStartedEventAttributes.workflowType?.name}`);
  }
  parts.push(')');
  return parts.join('');
}

/**
 * The failure's own message out of the replay error, which wraps core's `Failure { failure:
 * Some(Failure { message: "...", ... }) }` in a sentence of its own.
 */
export function failureMessage(replayErrorMessage: string): string {
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(replayErrorMessage)?.[1];
  return quoted !== undefined ? quoted.replace(/\\(["\\])/g, '$1') : replayErrorMessage.replace(/^.*?Details: /s, '');
}

/** Core's names for the state machine of the command the code issued instead. */
const COMMAND_OF_MACHINE: Record<string, string> = {
  Activity: 'schedules an activity',
  'Local activity': 'runs a local activity',
  Timer: 'starts a timer',
  'Child workflow': 'starts a child workflow',
  'Complete workflow': 'completes the workflow',
  'Fail workflow': 'fails the workflow',
  'Cancel workflow': 'cancels the workflow',
  'Continue as new workflow': 'continues as new',
  'Signal external WF': 'signals another workflow',
  'Cancel external WF': 'cancels another workflow',
  Update: 'handles an update',
  'Nexus operation': 'starts a Nexus operation',
};

export interface Divergence {
  /** The history event the code no longer matches, when the SDK names it (or it can be found). */
  eventId?: number;
  event?: HistoryEvent;
  /** One line: where and how the code diverges. */
  summary: string;
  /** The SDK's own words. */
  sdkMessage: string;
}

/**
 * Reads the SDK's nondeterminism report (core's `[TMPRL1100] Nondeterminism error: ...`) and finds
 * the diverging event in the history. Core words it as one of:
 *   `<Kind> machine does not handle this event: HistoryEvent(id: N, Type)`  the code issued another command
 *   `No command scheduled for event HistoryEvent(id: N, Type)`             the code issued none
 *   `... of scheduled event 'X' does not match ... of activity command 'Y'`  same command, other id / type
 */
export function describeDivergence(message: string, history: History): Divergence {
  const events = history.events ?? [];
  const sdkMessage = failureMessage(message)
    .replace(/^\[TMPRL1100\]\s*/, '')
    .replace(/^Nondeterminism error:\s*/, '');
  const byId = (id: number) => events.find((e) => Number(e.eventId) === id);

  const ref = /HistoryEvent\(id: (\d+), (\w+)\)/.exec(sdkMessage);
  if (ref) {
    const eventId = Number(ref[1]);
    const event = byId(eventId);
    const where = event ? describeEvent(event) : `event ${eventId} (${ref[2]})`;
    const machine = /^(.+?) machine does not handle this event/.exec(sdkMessage)?.[1];
    const how = machine
      ? `the code now ${COMMAND_OF_MACHINE[machine] ?? `issues a ${machine.toLowerCase()} command`} where the history has ${ref[2]}`
      : /^No command scheduled for event/.test(sdkMessage)
        ? `the code no longer issues the command that produced ${ref[2]}`
        : sdkMessage;
    return { eventId, ...(event ? { event } : {}), summary: `diverges at ${where}: ${how}`, sdkMessage };
  }

  const mismatch =
    /(activity id|activity type|child workflow id|child workflow type|timer id) of scheduled event '([^']*)' does not match .*? command '([^']*)'/i.exec(
      sdkMessage,
    );
  if (mismatch) {
    const [, what, recorded, now] = mismatch;
    // Ids name one event; a type names many, so then only the SDK's words are given.
    const event = /id$/i.test(what!)
      ? events.find(
          (e) =>
            e.activityTaskScheduledEventAttributes?.activityId === recorded ||
            e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === recorded ||
            e.timerStartedEventAttributes?.timerId === recorded,
        )
      : undefined;
    const where = event ? describeEvent(event) : `the event with ${what} '${recorded}'`;
    return {
      ...(event ? { eventId: Number(event.eventId), event } : {}),
      summary: `diverges at ${where}: the history has ${what} '${recorded}', the code now '${now}'`,
      sdkMessage,
    };
  }
  return { summary: `diverges: ${sdkMessage}`, sdkMessage };
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  let args: ReplayArgs;
  let config;
  try {
    const parsed = parseReplayArgs(argv);
    if (parsed === 'help') {
      console.log(USAGE);
      return EXIT_OK;
    }
    args = parsed;
    config = loadConfig();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`replay: ${err.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return EXIT_USAGE;
    }
    throw err;
  }

  const address = temporalAddress(config);
  const namespace = config.TEMPORAL_NAMESPACE;
  const name = `${args.workflowId}${args.runId ? ` (run ${args.runId})` : ''}`;
  let history: History;
  let runId: string;
  let workflowType: string;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
    const handle = new Client({ connection, namespace }).workflow.getHandle(args.workflowId, args.runId);
    const description = await handle.describe();
    runId = description.runId;
    workflowType = description.type;
    history = await handle.fetchHistory();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as { code?: unknown }).code === 5 /* gRPC NOT_FOUND */) {
      console.error(`replay: no workflow ${name} in namespace ${namespace} at ${address}`);
    } else {
      console.error(`replay: could not read ${name} from Temporal at ${address}: ${(err as Error).message}`);
    }
    return EXIT_FAILED;
  } finally {
    await connection?.close();
  }

  const events = history.events?.length ?? 0;
  const against = relative(process.cwd(), args.workflowsPath) || args.workflowsPath;
  const subject = `${args.workflowId} (run ${runId}, ${workflowType}, ${events} events) against ${against}`;
  const noop = () => {};
  const bundle = await bundleWorkflowCode({
    workflowsPath: args.workflowsPath,
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop },
  });
  try {
    // Failures are decoded whatever the failure converter; replay encodes none, so the failure it
    // reports stays readable here.
    const { payloadCodecs } = dataConverter(config);
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: { payloadCodecs } }, history, args.workflowId);
  } catch (err) {
    if (err instanceof DeterminismViolationError) {
      const divergence = describeDivergence(err.message, history);
      console.log(`${subject}: does NOT replay`);
      console.log(divergence.summary);
      console.log(`SDK: ${divergence.sdkMessage}`);
      return EXIT_FAILED;
    }
    const message = failureMessage((err as Error).message);
    console.log(`${subject}: replay failed`);
    console.log(
      /no such function is exported by the workflow bundle/.test(message)
        ? `${workflowType} is not a workflow of ${against} (replay against the module that exports it: --workflows)`
        : message,
    );
    return EXIT_FAILED;
  }
  console.log(`${subject}: replays cleanly (${events} events)`);
  return EXIT_OK;
}

if (require.main === module) {
  // The replay worker's own reports of the failing task (core's warning, the worker's "Failed to
  // process Workflow Activation") repeat the error this script reports: left out.
  const logger = new DefaultLogger('ERROR', (entry) => {
    if (!/Failed to process Workflow Activation/.test(entry.message))
      console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
  });
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(EXIT_FAILED);
    },
  );
}
