/**
 * `npx coexist ops ...`: the operators' command line over the ops API (`api/ops/routes.ts`);
 * `npx coexist temporal ...`: the Temporal CLI pointed at this stack (scripts/temporal.ts).
 *
 *   coexist ops list [--stage S] [--stuck | --not-stuck] [--blocked-reason R] [--limit N] [--page-token T] [--json]
 *   coexist ops show <phone> [--json]
 *   coexist ops retry|refresh-linking|refresh-status-card|recheck-payment|cancel <phone> [--json]
 *   coexist ops reset <phone> --to <stage> [--json]
 *   coexist ops parked [--limit N] [--cursor C] [--json]
 *   coexist ops quarantine [--classification C] [--limit N] [--cursor X] [--json]
 *   coexist ops quarantine show <id> [--json]
 *   coexist ops quarantine replay <id>... [--json]
 *
 * Everything but `main` is pure (argument parsing, requests, rendering) or takes its I/O as
 * arguments (`run`), so the unit tests need neither a network nor a process.
 * Exit codes: 0 ok, 1 the API refused or could not be reached, 2 usage.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configSchema } from '../config';
import { BLOCKABLE_STAGES, STAGES, type BlockableStage, type Stage } from '../machines/onboarding';
import { BLOCKED_REASONS } from '../machines/onboarding';
import { toE164 } from '../contracts/ids';
import { runTemporal } from './temporal';
import {
  quarantineInspectionSchema,
  quarantineListSchema,
  quarantineQuerySchema,
  replayAnswerSchema,
  replaySchema,
  type QuarantineList,
  type ReplayAnswer,
} from '../api/ops/quarantine-schemas';

export const EXIT_OK = 0;
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: coexist ops <command> [options]
       coexist temporal <arguments>   the Temporal CLI, pointed at this stack (address, namespace, codec)

Commands:
  list [--stage S] [--stuck | --not-stuck] [--blocked-reason R] [--limit N] [--page-token T]
                                  onboardings, newest first
  show <phone>                    state, what it waits on and who must act, the repairs it accepts,
                                  blocked reason and remedy, timeline, timers, activities
  retry <phone>                   retry the stage that blocked (after the user acted on the remedy)
  refresh-linking <phone>         show a fresh QR code / linking code
  refresh-status-card <phone>     re-read the WhatsApp Account Status card from Meta
  recheck-payment <phone>         check the payment method again
  cancel <phone>                  cancel the onboarding
  reset <phone> --to <stage>      send a blocked onboarding back to prerequisites, signup, linking or registration
  parked [--limit N] [--cursor C] conversation effects parked so that the events behind them went on
                                  (conflicts, failures retrying cannot fix), newest first
  quarantine [--classification C] [--limit N] [--cursor X]
                                  webhook content no workflow took, newest first (C: a classification or its prefix)
  quarantine show <id>            one entry with the delivery as Meta sent it
  quarantine replay <id>...       route these entries' deliveries again (nothing applied twice)

Options:
  --api URL        the API (env COEXIST_API_URL; default http://API_HOST:API_PORT)
  --token T        an ops token (env COEXIST_OPS_TOKEN; default with COEXIST_ENV=local: the first of OPS_TOKENS)
  --json           print the API's JSON answer
  -h, --help       this text

<phone> is E.164 (+15550783881; the + may be left out).
Exit codes: 0 ok, 1 API error, 2 usage error.`;

// --- parsing ------------------------------------------------------------------------------------

const BLOCKED_REASON_CODES = Object.keys(BLOCKED_REASONS) as [keyof typeof BLOCKED_REASONS, ...(keyof typeof BLOCKED_REASONS)[]];

/** Subcommand → the API action it posts (`null`: not an action). */
const ACTIONS = {
  retry: 'retry',
  'refresh-linking': 'refreshLinking',
  'refresh-status-card': 'refreshStatusCard',
  'recheck-payment': 'recheckPayment',
  cancel: 'cancel',
  reset: 'reset',
} as const;
type ActionCommand = keyof typeof ACTIONS;
export type ActionBody = { action: Exclude<(typeof ACTIONS)[ActionCommand], 'reset'> } | { action: 'reset'; to: BlockableStage };

export interface ListQuery {
  stage?: Stage;
  stuck?: boolean;
  blockedReason?: string;
  limit?: number;
  pageToken?: string;
}

export interface ParkedQuery {
  limit?: number;
  cursor?: string;
}

export type Command =
  | { name: 'list'; query: ListQuery; json: boolean }
  | { name: 'parked'; query: ParkedQuery; json: boolean }
  | { name: 'show'; phoneNumber: string; json: boolean }
  | { name: 'action'; phoneNumber: string; body: ActionBody; json: boolean }
  | { name: 'quarantine'; query: { classification?: string; limit?: number; cursor?: string }; json: boolean }
  | { name: 'quarantine-show'; id: string; json: boolean }
  | { name: 'quarantine-replay'; ids: string[]; json: boolean };

export interface Connection {
  apiUrl: string;
  token: string;
}

export type Parsed = { kind: 'help' } | { kind: 'run'; command: Command; connection: Connection };

/** A mistake in how the CLI was called: exit 2 with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const optionSpec = {
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  stage: { type: 'string' },
  stuck: { type: 'boolean' },
  'not-stuck': { type: 'boolean' },
  'blocked-reason': { type: 'string' },
  limit: { type: 'string' },
  'page-token': { type: 'string' },
  cursor: { type: 'string' },
  to: { type: 'string' },
  classification: { type: 'string' },
} as const;

const phoneSchema = z.string().transform((value, ctx) => {
  const e164 = toE164(value);
  if (!e164) {
    ctx.addIssue({ code: 'custom', message: `not an E.164 phone number: ${value} (e.g. +15550783881)` });
    return z.NEVER;
  }
  return e164;
});

const json = z.boolean().optional();
const listOptions = z
  .object({
    json,
    stage: z.enum(STAGES).optional(),
    stuck: z.boolean().optional(),
    'not-stuck': z.boolean().optional(),
    'blocked-reason': z.enum(BLOCKED_REASON_CODES).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    'page-token': z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,2000}$/, 'must be a nextPageToken from an earlier list')
      .optional(),
  })
  .strict()
  .refine((o) => !(o.stuck && o['not-stuck']), { message: '--stuck and --not-stuck exclude each other' });
const parkedOptions = z
  .object({
    json,
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a nextCursor from an earlier list')
      .optional(),
  })
  .strict();
const oneOnboardingOptions = z.object({ json }).strict();
const quarantineOptions = z
  .object({
    json,
    classification: quarantineQuerySchema.shape.classification,
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: quarantineQuerySchema.shape.cursor,
  })
  .strict();
const resetOptions = z.object({ json, to: z.enum(BLOCKABLE_STAGES) }).strict();

/** The first zod issue as a usage message naming the option. */
function optionIssue(error: z.ZodError, command: string): UsageError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return new UsageError(`--${issue.keys[0]} does not apply to \`ops ${command}\``);
  if (issue.path[0] === 'to' && issue.code === 'invalid_value')
    return new UsageError(`--to must be one of ${BLOCKABLE_STAGES.join(', ')}`);
  if (issue.code === 'invalid_value' && issue.path.length > 0) {
    return new UsageError(`--${String(issue.path[0])} must be one of ${issue.values.map(String).join(', ')}`);
  }
  return new UsageError(issue.path.length > 0 ? `--${String(issue.path[0])}: ${issue.message}` : issue.message);
}

function parseOptions<S extends z.ZodType>(schema: S, values: Record<string, unknown>, command: string): z.infer<S> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw optionIssue(parsed.error, command);
  return parsed.data;
}

function onePhone(rest: string[], command: string): string {
  if (rest.length !== 1)
    throw new UsageError(`\`ops ${command}\` takes one phone number, e.g. coexist ops ${command} +15550783881`);
  const phone = phoneSchema.safeParse(rest[0]);
  if (!phone.success) throw new UsageError(phone.error.issues[0]!.message);
  return phone.data;
}

/** The command line (without `node` and the script) into a command; throws UsageError. */
export function parseCommand(argv: string[]): { kind: 'help' } | { kind: 'run'; command: Command; api?: string; token?: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: optionSpec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
  }
  const { api, token, help, ...values } = parsed.values;
  const [group, command, ...rest] = parsed.positionals;
  if (help || (group === 'help' && command === undefined)) return { kind: 'help' };
  if (group === undefined) throw new UsageError('missing command');
  if (group !== 'ops') throw new UsageError(`unknown command: ${group}`);
  if (command === undefined) throw new UsageError('missing command after `ops`');
  const connection = { ...(api !== undefined ? { api } : {}), ...(token !== undefined ? { token } : {}) };

  if (command === 'list') {
    if (rest.length > 0) throw new UsageError(`\`ops list\` takes no arguments, got: ${rest.join(' ')}`);
    const o = parseOptions(listOptions, values, command);
    const query: ListQuery = {
      ...(o.stage ? { stage: o.stage } : {}),
      ...(o.stuck ? { stuck: true } : o['not-stuck'] ? { stuck: false } : {}),
      ...(o['blocked-reason'] ? { blockedReason: o['blocked-reason'] } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o['page-token'] ? { pageToken: o['page-token'] } : {}),
    };
    return { kind: 'run', command: { name: 'list', query, json: o.json ?? false }, ...connection };
  }
  if (command === 'parked') {
    if (rest.length > 0) throw new UsageError(`\`ops parked\` takes no arguments, got: ${rest.join(' ')}`);
    const o = parseOptions(parkedOptions, values, command);
    const query: ParkedQuery = {
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o.cursor ? { cursor: o.cursor } : {}),
    };
    return { kind: 'run', command: { name: 'parked', query, json: o.json ?? false }, ...connection };
  }
  if (command === 'quarantine') return { kind: 'run', command: quarantineCommand(rest, values), ...connection };
  if (command === 'show') {
    const o = parseOptions(oneOnboardingOptions, values, command);
    return { kind: 'run', command: { name: 'show', phoneNumber: onePhone(rest, command), json: o.json ?? false }, ...connection };
  }
  if (command === 'reset') {
    if (values.to === undefined) throw new UsageError(`\`ops reset\` needs --to <stage> (${BLOCKABLE_STAGES.join(', ')})`);
    const o = parseOptions(resetOptions, values, command);
    return {
      kind: 'run',
      command: {
        name: 'action',
        phoneNumber: onePhone(rest, command),
        body: { action: 'reset', to: o.to },
        json: o.json ?? false,
      },
      ...connection,
    };
  }
  if (Object.hasOwn(ACTIONS, command)) {
    const o = parseOptions(oneOnboardingOptions, values, command);
    const action = ACTIONS[command as Exclude<ActionCommand, 'reset'>];
    return {
      kind: 'run',
      command: { name: 'action', phoneNumber: onePhone(rest, command), body: { action }, json: o.json ?? false },
      ...connection,
    };
  }
  throw new UsageError(`unknown command: ops ${command}`);
}

/** `ops quarantine`, `ops quarantine show <id>`, `ops quarantine replay <id>...`. */
function quarantineCommand(rest: string[], values: Record<string, unknown>): Command {
  const [sub, ...ids] = rest;
  if (sub === undefined) {
    const o = parseOptions(quarantineOptions, values, 'quarantine');
    const query = {
      ...(o.classification ? { classification: o.classification } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o.cursor ? { cursor: o.cursor } : {}),
    };
    return { name: 'quarantine', query, json: o.json ?? false };
  }
  const o = parseOptions(oneOnboardingOptions, values, `quarantine ${sub}`);
  const body = replaySchema.safeParse({ ids });
  if (!body.success)
    throw new UsageError(`\`ops quarantine ${sub}\` takes entry ids (digits), e.g. coexist ops quarantine ${sub} 42`);
  if (sub === 'show') {
    if (ids.length !== 1) throw new UsageError('`ops quarantine show` takes one entry id, e.g. coexist ops quarantine show 42');
    return { name: 'quarantine-show', id: ids[0]!, json: o.json ?? false };
  }
  if (sub === 'replay') return { name: 'quarantine-replay', ids: body.data.ids, json: o.json ?? false };
  throw new UsageError(`unknown command: ops quarantine ${sub}`);
}

/** An env variable, where an empty string counts as unset (as in config.ts). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** One config variable through the config's own schema (so defaults and checks are the service's). */
function configValue<K extends 'COEXIST_ENV' | 'API_HOST' | 'API_PORT' | 'OPS_TOKENS'>(
  env: NodeJS.ProcessEnv,
  name: K,
): z.infer<(typeof configSchema.shape)[K]> {
  const parsed = (configSchema.shape[name] as z.ZodType).safeParse(envValue(env, name));
  if (!parsed.success) throw new UsageError(`${name}: ${parsed.error.issues[0]!.message}`);
  return parsed.data as z.infer<(typeof configSchema.shape)[K]>;
}

const apiUrlSchema = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. http://127.0.0.1:3000' });

/** Where to call and with which token: flag, then environment, then the config's defaults. */
export function resolveConnection(flags: { api?: string; token?: string }, env: NodeJS.ProcessEnv): Connection {
  let apiUrl = flags.api ?? envValue(env, 'COEXIST_API_URL');
  if (apiUrl === undefined) {
    const host = configValue(env, 'API_HOST');
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    apiUrl = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${configValue(env, 'API_PORT')}`;
  }
  const checked = apiUrlSchema.safeParse(apiUrl);
  if (!checked.success)
    throw new UsageError(`${flags.api !== undefined ? '--api' : 'COEXIST_API_URL'} ${checked.error.issues[0]!.message}`);

  let token = flags.token ?? envValue(env, 'COEXIST_OPS_TOKEN');
  if (token === undefined && configValue(env, 'COEXIST_ENV') === 'local') token = configValue(env, 'OPS_TOKENS')[0]!.token;
  if (token === undefined) throw new UsageError('no ops token: pass --token or set COEXIST_OPS_TOKEN');
  if (token.length === 0 || /\s/.test(token)) throw new UsageError('the ops token must be non-empty and without spaces');
  return { apiUrl: checked.data.replace(/\/+$/, ''), token };
}

/** The whole command line, with defaults from the environment; throws UsageError. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const parsed = parseCommand(argv);
  if (parsed.kind === 'help') return parsed;
  return { kind: 'run', command: parsed.command, connection: resolveConnection(parsed, env) };
}

// --- requests -----------------------------------------------------------------------------------

export interface ApiRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
}

export function requestFor(command: Command, apiUrl: string): ApiRequest {
  const one = (phoneNumber: string) => `${apiUrl}/ops/onboardings/${encodeURIComponent(phoneNumber)}`;
  switch (command.name) {
    case 'list': {
      const q = command.query;
      const params = new URLSearchParams();
      if (q.stage) params.set('stage', q.stage);
      if (q.stuck !== undefined) params.set('stuck', String(q.stuck));
      if (q.blockedReason) params.set('blockedReason', q.blockedReason);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      if (q.pageToken) params.set('pageToken', q.pageToken);
      const query = params.toString();
      return { method: 'GET', url: `${apiUrl}/ops/onboardings${query ? `?${query}` : ''}` };
    }
    case 'parked': {
      const params = new URLSearchParams();
      if (command.query.limit !== undefined) params.set('limit', String(command.query.limit));
      if (command.query.cursor) params.set('cursor', command.query.cursor);
      const query = params.toString();
      return { method: 'GET', url: `${apiUrl}/ops/parked${query ? `?${query}` : ''}` };
    }
    case 'show':
      return { method: 'GET', url: one(command.phoneNumber) };
    case 'action':
      return { method: 'POST', url: `${one(command.phoneNumber)}/actions`, body: command.body };
    case 'quarantine': {
      const params = new URLSearchParams(
        Object.entries(command.query).map(([k, v]) => [k, String(v)] as [string, string]),
      ).toString();
      return { method: 'GET', url: `${apiUrl}/ops/quarantine${params ? `?${params}` : ''}` };
    }
    case 'quarantine-show':
      return { method: 'GET', url: `${apiUrl}/ops/quarantine/${command.id}` };
    case 'quarantine-replay':
      return { method: 'POST', url: `${apiUrl}/ops/quarantine/replay`, body: { ids: command.ids } };
  }
}

/** The quarantine as a table: id, when Meta delivered it, why, when it was last replayed. */
export function renderQuarantine(answer: QuarantineList): string {
  if (answer.entries.length === 0) return 'nothing in the quarantine';
  const lines = answer.entries.map(
    (e) =>
      `${e.id.padEnd(8)} ${e.receivedAt.slice(0, 19).replace('T', ' ')}  ${e.classifications.join(', ')}${e.replayedAt ? `  (replayed ${e.replayedAt.slice(0, 19).replace('T', ' ')})` : ''}`,
  );
  return [
    `${'id'.padEnd(8)} ${'received (UTC)'.padEnd(19)}  classifications`,
    ...lines,
    ...(answer.nextCursor ? [`more: --cursor ${answer.nextCursor}`] : []),
  ].join('\n');
}

export function renderReplay(answer: ReplayAnswer): string {
  return [
    ...answer.replayed.map((r) => `${r.id}: replayed, ${r.queued} item${r.queued === 1 ? '' : 's'} queued`),
    ...answer.notReplayable.map((id) => `${id}: not replayable (no such entry, or kept without its bytes)`),
  ].join('\n');
}

// --- answers ------------------------------------------------------------------------------------

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), hint: z.string().optional() }).loose(),
});
export type ApiErrorBody = z.infer<typeof errorBodySchema>['error'];

const listRowSchema = z
  .object({
    id: z.string(),
    phoneNumber: z.string().nullish(),
    wabaId: z.string().nullish(),
    stage: z.string(),
    since: z.string().nullish(),
    ageMs: z.number().nullish(),
    budgetMs: z.number().nullish(),
    stuck: z.boolean(),
    blockedReason: z.string().nullish(),
    remedy: z.string().nullish(),
    linkingAttempts: z.number().nullish(),
    syncDeadline: z.string().nullish(),
    syncDeadlineNear: z.boolean().nullish(),
    waitingFor: z.object({ actor: z.string(), waitsFor: z.string() }).loose().optional(),
  })
  .loose();
export const listAnswerSchema = z.object({ onboardings: z.array(listRowSchema), nextPageToken: z.string().optional() }).loose();
export type ListAnswer = z.infer<typeof listAnswerSchema>;

export const parkedAnswerSchema = z
  .object({
    parked: z.array(
      z
        .object({
          parkedAt: z.string(),
          workflowId: z.string(),
          action: z.string(),
          reason: z.string(),
          error: z.string(),
          attempts: z.number(),
          params: z.unknown(),
        })
        .loose(),
    ),
    nextCursor: z.string().optional(),
  })
  .loose();
export type ParkedAnswer = z.infer<typeof parkedAnswerSchema>;

export const showAnswerSchema = z
  .object({
    id: z.string(),
    phoneNumber: z.string().nullish(),
    wabaId: z.string().nullish(),
    stage: z.string(),
    state: z.string(),
    status: z.string(),
    since: z.string().nullish(),
    ageMs: z.number().nullish(),
    budgetMs: z.number().nullish(),
    stuck: z.boolean(),
    linkingAttempts: z.number().nullish(),
    syncDeadline: z.string().nullish(),
    syncDeadlineNear: z.boolean().nullish(),
    blocked: z
      .object({
        reason: z.string(),
        remedy: z.string(),
        stage: z.string(),
        code: z.number().optional(),
        detail: z.string().optional(),
      })
      .loose()
      .nullable(),
    statusCard: z.record(z.string(), z.unknown()).nullish(),
    waitingFor: z.object({ actor: z.string(), waitsFor: z.string() }).loose().optional(),
    /** The repairs the state accepts, as the API asked the machine. */
    actions: z.array(z.object({ action: z.string(), to: z.string().optional() }).loose()).optional(),
    timeline: z.array(
      z.object({ at: z.string(), from: z.string(), to: z.string(), event: z.string(), by: z.string().optional() }).loose(),
    ),
    pendingTimers: z.array(z.object({ id: z.string(), event: z.string(), dueAt: z.string() }).loose()),
    activities: z.array(z.object({ type: z.string(), attempt: z.number(), lastFailure: z.string().optional() }).loose()),
    effectFailures: z.array(z.object({ at: z.string(), action: z.string(), message: z.string() }).loose()).optional(),
  })
  .loose();
export type ShowAnswer = z.infer<typeof showAnswerSchema>;

// --- rendering ----------------------------------------------------------------------------------

/** 42s, 3m12s, 2h05m, 3d04h; negative durations read as 0s. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= width) return flat;
  return width <= 1 ? '…'.slice(0, width) : `${flat.slice(0, width - 1).trimEnd()}…`;
}

/** Words wrapped to `width`, each line after the first indented by `indent` spaces. */
export function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** A compact `2025-11-25 10:04:05Z` from an ISO time (other strings as they are). */
function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : iso;
}

function ageOf(row: { since?: string | null; ageMs?: number | null }, now: number): number | undefined {
  if (typeof row.ageMs === 'number') return row.ageMs;
  const since = row.since ? Date.parse(row.since) : NaN;
  return Number.isNaN(since) ? undefined : now - since;
}

export interface RenderOptions {
  /** Epoch ms, for ages the API did not give and for timers' "in …". */
  now: number;
  /** Terminal width; the remedy column takes what the others leave (at least 20). */
  columns: number;
}

export function renderList(answer: ListAnswer, { now, columns }: RenderOptions): string {
  if (answer.onboardings.length === 0) return 'No onboardings match.';
  const header = ['PHONE', 'STAGE', 'SINCE', 'AGE', 'STUCK', 'LINK', 'WAITS ON', 'REASON', 'REMEDY'];
  const rows = answer.onboardings.map((o) => {
    const age = ageOf(o, now);
    return [
      o.phoneNumber ?? o.id.replace(/^onboarding:/, ''),
      o.stage,
      shortTime(o.since),
      age === undefined ? '-' : formatDuration(age),
      o.stuck ? (o.syncDeadlineNear ? 'STUCK (sync deadline)' : 'STUCK') : '',
      String(o.linkingAttempts ?? 0),
      o.waitingFor?.actor ?? '',
      o.blockedReason ?? '',
      o.remedy ?? '',
    ];
  });
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const used = widths.reduce((sum, w) => sum + w + 2, 0);
  const remedyWidth = Math.max(20, columns - used);
  const line = (cells: string[]) =>
    [...cells.slice(0, -1).map((c, i) => c.padEnd(widths[i]!)), truncate(cells.at(-1)!, remedyWidth)].join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  const stuck = answer.onboardings.filter((o) => o.stuck).length;
  out.push(
    '',
    `${answer.onboardings.length} onboarding${answer.onboardings.length === 1 ? '' : 's'}${stuck ? `, ${stuck} stuck` : ''}`,
  );
  if (answer.nextPageToken) out.push(`more: --page-token ${answer.nextPageToken}`);
  return out.join('\n');
}

export function renderParked(answer: ParkedAnswer, { columns }: RenderOptions): string {
  if (answer.parked.length === 0) return 'Nothing is parked.';
  const header = ['PARKED', 'WORKFLOW', 'ACTION', 'REASON', 'TRIES', 'ERROR'];
  const rows = answer.parked.map((p) => [shortTime(p.parkedAt), p.workflowId, p.action, p.reason, String(p.attempts), p.error]);
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const errorWidth = Math.max(20, columns - widths.reduce((sum, w) => sum + w + 2, 0));
  const line = (cells: string[]) =>
    [...cells.slice(0, -1).map((c, i) => c.padEnd(widths[i]!)), truncate(cells.at(-1)!, errorWidth)].join('  ').trimEnd();
  const out = [line(header), ...rows.map(line), '', `${answer.parked.length} parked (--json shows each one's input)`];
  if (answer.nextCursor) out.push(`more: --cursor ${answer.nextCursor}`);
  return out.join('\n');
}

/** Scalar leaves of a (small) object as `key value` pairs, nested keys dotted. */
function leaves(value: unknown, prefix = ''): [string, string][] {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object') return [[prefix, String(value)]];
  if (Array.isArray(value))
    return value.length ? [[prefix, value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')]] : [];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

export function renderShow(o: ShowAnswer, { now, columns }: RenderOptions): string {
  const label = (name: string) => `  ${name.padEnd(14)}`;
  const textWidth = Math.max(30, columns - 16);
  const out: string[] = [];
  const phone = o.phoneNumber ?? o.id.replace(/^onboarding:/, '');
  out.push(`${phone}  ${o.id}${o.stuck ? '  STUCK' : ''}`);
  const age = ageOf(o, now);
  const since = o.since ? `since ${shortTime(o.since)}${age !== undefined ? ` (${formatDuration(age)})` : ''}` : '';
  const budget = typeof o.budgetMs === 'number' ? `budget ${formatDuration(o.budgetMs)}` : '';
  out.push(`${label('stage')}${[o.stage, since, budget].filter(Boolean).join(', ')}`);
  out.push(`${label('state')}${o.state} (${o.status})`);
  if (o.wabaId) out.push(`${label('waba')}${o.wabaId}`);
  out.push(`${label('linking')}${o.linkingAttempts ?? 0} attempt${o.linkingAttempts === 1 ? '' : 's'}`);
  if (o.syncDeadline)
    out.push(
      `${label('sync deadline')}${shortTime(o.syncDeadline)}${o.syncDeadlineNear ? ' (near: contacts and history not requested yet)' : ''}`,
    );
  if (o.blocked) {
    const code = o.blocked.code !== undefined ? `, Meta code ${o.blocked.code}` : '';
    out.push(`${label('blocked')}${o.blocked.reason} (in ${o.blocked.stage}${code})`);
    if (o.blocked.detail) out.push(`${label('detail')}${wrap(o.blocked.detail, textWidth, 16)}`);
    out.push(`${label('remedy')}${wrap(o.blocked.remedy, textWidth, 16)}`);
  } else {
    out.push(`${label('blocked')}no`);
  }
  if (o.waitingFor) {
    const who = o.waitingFor.actor === 'nobody' ? 'nobody' : o.waitingFor.actor;
    out.push(`${label('waits on')}${who}: ${wrap(o.waitingFor.waitsFor, textWidth - who.length - 2, 16)}`);
  }
  if (o.actions) {
    out.push(
      `${label('repairs')}${o.actions.length ? wrap(o.actions.map(commandFor).join(', '), textWidth, 16) : 'none in this state'}`,
    );
  }
  const card = leaves(o.statusCard);
  if (card.length) out.push(`${label('status card')}${wrap(card.map(([k, v]) => `${k}=${v}`).join(', '), textWidth, 16)}`);

  out.push('', `Timeline (${o.timeline.length})`);
  if (o.timeline.length === 0) out.push('  (none)');
  const fromWidth = Math.max(0, ...o.timeline.map((t) => t.from.length));
  const toWidth = Math.max(0, ...o.timeline.map((t) => t.to.length));
  for (const t of o.timeline) {
    out.push(
      `  ${shortTime(t.at)}  ${t.from.padEnd(fromWidth)} → ${t.to.padEnd(toWidth)}  ${t.event}${t.by ? `  by ${t.by}` : ''}`,
    );
  }

  out.push('', 'Pending timers');
  if (o.pendingTimers.length === 0) out.push('  (none)');
  for (const t of o.pendingTimers) {
    const due = Date.parse(t.dueAt);
    const when = Number.isNaN(due)
      ? ''
      : due >= now
        ? ` (in ${formatDuration(due - now)})`
        : ` (${formatDuration(now - due)} overdue)`;
    out.push(`  ${t.event}  due ${shortTime(t.dueAt)}${when}`);
  }

  out.push('', 'Activities');
  if (o.activities.length === 0) out.push('  (none running)');
  for (const a of o.activities) {
    out.push(
      `  ${a.type}  attempt ${a.attempt}${a.lastFailure ? `  last failure: ${truncate(a.lastFailure, Math.max(20, textWidth - a.type.length - 24))}` : ''}`,
    );
  }
  if (o.effectFailures?.length) {
    out.push('', 'Effect failures');
    for (const f of o.effectFailures) out.push(`  ${shortTime(f.at)}  ${f.action}: ${truncate(f.message, textWidth)}`);
  }
  return out.join('\n');
}

/** The CLI command that posts an API action (`reset --to S` for a reset). */
export function commandFor(action: { action: string; to?: string }): string {
  const name = Object.entries(ACTIONS).find(([, api]) => api === action.action)?.[0] ?? action.action;
  return action.to ? `${name} --to ${action.to}` : name;
}

export function renderApiError(status: number, error: ApiErrorBody): string {
  return [
    `error: ${error.code}: ${error.message} (HTTP ${status})`,
    ...(error.field ? [`  field: ${error.field}`] : []),
    ...(error.hint ? [`  hint: ${error.hint}`] : []),
  ].join('\n');
}

// --- running ------------------------------------------------------------------------------------

export interface CliIo {
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => number;
  columns: number;
}

const REQUEST_TIMEOUT_MS = 60_000;

/** The CLI: parses, calls the API, prints; resolves with the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCli(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.kind === 'help') {
    io.out(USAGE);
    return EXIT_OK;
  }
  const { command, connection } = parsed;
  const request = requestFor(command, connection.apiUrl);

  let response: Response;
  try {
    response = await io.fetch(request.url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        accept: 'application/json',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    io.err(`error: cannot reach the API at ${connection.apiUrl}: ${why}`);
    return EXIT_API_ERROR;
  }

  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    io.err(`error: the API answered HTTP ${response.status} with something that is not JSON: ${truncate(text, 200)}`);
    return EXIT_API_ERROR;
  }
  if (!response.ok) {
    const error = errorBodySchema.safeParse(body);
    io.err(
      error.success
        ? renderApiError(response.status, error.data.error)
        : `error: HTTP ${response.status}: ${truncate(text, 200)}`,
    );
    if (command.name === 'action' && response.status === 409) {
      const accepted = await acceptedNow(io, connection, requestFor({ ...command, name: 'show' }, connection.apiUrl).url);
      if (accepted) io.err(`  the state accepts now: ${accepted.length ? accepted.map(commandFor).join(', ') : 'no repair'}`);
    }
    return EXIT_API_ERROR;
  }
  if (command.json) {
    io.out(JSON.stringify(body, null, 2));
    return EXIT_OK;
  }

  if (command.name === 'quarantine-show') {
    // An inspection is the delivery as Meta sent it: printed as JSON either way.
    const answer = quarantineInspectionSchema.safeParse(body);
    io.out(JSON.stringify(answer.success ? answer.data : body, null, 2));
    return EXIT_OK;
  }
  if (command.name === 'quarantine' || command.name === 'quarantine-replay') {
    const answer = (command.name === 'quarantine' ? quarantineListSchema : replayAnswerSchema).safeParse(body);
    if (!answer.success) {
      io.err(`error: unexpected answer from ${request.method} ${request.url} (--json prints it as it came)`);
      return EXIT_API_ERROR;
    }
    io.out(
      command.name === 'quarantine' ? renderQuarantine(answer.data as QuarantineList) : renderReplay(answer.data as ReplayAnswer),
    );
    return EXIT_OK;
  }
  const options = { now: io.now(), columns: io.columns };
  const schema = command.name === 'list' ? listAnswerSchema : command.name === 'parked' ? parkedAnswerSchema : showAnswerSchema;
  const answer = schema.safeParse(body);
  if (!answer.success) {
    const issue = answer.error.issues[0]!;
    io.err(
      `error: unexpected answer from ${request.method} ${request.url}: ${issue.path.join('.') || '(body)'}: ${issue.message} (--json prints it as it came)`,
    );
    return EXIT_API_ERROR;
  }
  if (command.name === 'list') {
    io.out(renderList(answer.data as ListAnswer, options));
  } else if (command.name === 'parked') {
    io.out(renderParked(answer.data as ParkedAnswer, options));
  } else {
    if (command.name === 'action') io.out(`${command.body.action}: accepted for ${command.phoneNumber}\n`);
    io.out(renderShow(answer.data as ShowAnswer, options));
  }
  return EXIT_OK;
}

/** The repairs the onboarding's state accepts, from the API's inspection; undefined when it cannot tell. */
async function acceptedNow(io: CliIo, connection: Connection, url: string) {
  try {
    const response = await io.fetch(url, {
      headers: { authorization: `Bearer ${connection.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const answer = showAnswerSchema.safeParse(await response.json());
    return response.ok && answer.success ? answer.data.actions : undefined;
  } catch {
    return undefined;
  }
}

/** The process entry point (`bin/coexist.js`, or `tsx scripts/cli.ts`). */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  if (argv[0] === 'temporal') {
    process.exitCode = await runTemporal(argv.slice(1));
    return;
  }
  const code = await run(argv, {
    env: process.env,
    fetch: globalThis.fetch,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    now: Date.now,
    columns: process.stdout.isTTY ? process.stdout.columns : 160,
  }).catch((err: unknown) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT_API_ERROR;
  });
  process.exitCode = code;
}

if (require.main === module) void main();
