import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BUDGETED_STAGES } from './machines/onboarding';
import { PUSH_KINDS, type PushKind } from './contracts/push';

/**
 * The one configuration schema. Every process (worker, API, simulator, `npm start`) reads its
 * settings through `loadConfig`; docker-compose.yml sets the same variables.
 *
 * COEXIST_ENV=local (the default) fills in loopback defaults and development secrets so that
 * `npm start` works on a fresh clone; COEXIST_ENV=production refuses to start without the
 * variables listed in `requiredInProduction`.
 */
const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.url({ protocol: /^https?$/ });
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const stageBudgetsSchema = z
  .object(Object.fromEntries(BUDGETED_STAGES.map((stage) => [stage, z.number().int().positive().optional()])))
  .strict();

export const configSchema = z.object({
  COEXIST_ENV: z
    .enum(['local', 'production'])
    .default('local')
    .describe(
      '`local` fills in loopback defaults and the development secrets; `production` requires the variables marked so and refuses the published development secrets',
    ),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('The lowest level logged'),
  LOG_FORMAT: z
    .enum(['json', 'pretty'])
    .optional()
    .describe(
      '`json`: one JSON object a line, for machines; `pretty`: time, level, part and message, for a person. Unset: `pretty` on a terminal, else `json`',
    ),

  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional()
    .describe(
      'The Temporal frontend (`host:port`) to use. Unset: `npm start` runs its own dev server on TEMPORAL_DEV_SERVER_PORT, and refuses a server it did not start',
    ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('The Temporal namespace of every workflow'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('coexist').describe('The task queue the worker polls'),
  TEMPORAL_DEV_SERVER_PORT: port.default(7233).describe("The port of `npm start`'s Temporal dev server (gRPC)"),
  TEMPORAL_DEV_UI_PORT: port.default(8233).describe("The port of the dev server's Temporal Web UI"),
  TEMPORAL_DATA_DIR: z
    .string()
    .min(1)
    .default('.data')
    .describe("Where the dev server's SQLite file and the embedded message store live"),

  DATABASE_URL: z
    .string()
    .refine(
      (v) => v === 'memory://' || (/^postgres(ql)?:\/\/[^/]/.test(v) && URL.canParse(v)),
      'must be a postgres:// or postgresql:// URL, or memory://',
    )
    .optional()
    .describe(
      "The message store's PostgreSQL (`postgres://…`), or `memory://` for a throw-away one. Unset: an embedded PGlite under TEMPORAL_DATA_DIR, which only one process can open (so `npm start`, not `npm run worker` and `npm run api` apart)",
    ),

  // Worker tuning; the reasons for each default are in worker.ts.
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt.default(1000).describe('Workflows the worker keeps in its cache'),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(40).describe('Workflow tasks the worker runs at once'),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100).describe('Activities the worker runs at once'),
  WORKER_SHUTDOWN_GRACE_MS: positiveInt
    .default(10_000)
    .describe('On SIGTERM, how long running activities may finish before they are cancelled (ms)'),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1').describe("The address of the worker's Prometheus endpoint"),
  WORKER_METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(9464)
    .describe(
      "The worker's Prometheus endpoint (`/metrics`): Temporal's worker metrics, and coexist's activity metrics when the worker runs on its own. 0: none",
    ),
  METRICS_VISIBILITY_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15_000)
    .describe('How long `GET /metrics` reuses the onboarding gauges it read from Temporal visibility (ms; 0: every scrape)'),

  SEND_HOLD_LIMIT_MS: positiveInt
    .default(24 * 60 * 60_000)
    .describe(
      "How long a send for a number that cannot send (payment missing, offboarded, restricted...) is held before it is failed (ms; 24 h, because a template's or a window's meaning changes with time)",
    ),
  SEND_HELD_RECHECK_MS: positiveInt
    .default(60_000)
    .describe('While sends are held, how often at most the sender looks for sends to fail (hold limit, window closed), ms'),
  SEND_QUEUE_DEPTH_LIMIT: positiveInt
    .default(100_000)
    .describe("Sends a number's queue takes; beyond it the send API answers 429 with Retry-After and the depth"),

  API_HOST: z.string().min(1).default('127.0.0.1').describe('The address the API listens on'),
  API_PORT: port.default(3000).describe('The port of the API, its /docs and the /ops page'),
  BACKEND_API_KEY: z.string().min(16).default('local-backend-api-key').describe('The key the backend sends in `X-Api-Key`'),

  BACKEND_CALLBACK_URL: url
    .optional()
    .describe('Where the backend is told of changes it must act on. Unset: changes are only logged'),
  BACKEND_CALLBACK_SECRET: z
    .string()
    .min(16)
    .default('local-backend-callback-secret')
    .describe('The HMAC-SHA256 key of the `X-Coexist-Signature` header on callbacks'),

  BACKEND_PUSH_EVENTS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const kinds = v
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const unknown = kinds.filter((k) => !(PUSH_KINDS as readonly string[]).includes(k));
      if (unknown.length)
        ctx.addIssue({ code: 'custom', message: `unknown kind ${unknown.join(', ')}: one of ${PUSH_KINDS.join(', ')}` });
      return [...new Set(kinds)] as PushKind[];
    })
    .describe(
      `Conversation events pushed to BACKEND_CALLBACK_URL, comma-separated: ${PUSH_KINDS.join(', ')}. Unset: none (the backend reads the API)`,
    ),

  TOKEN_SEALING_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .default(Buffer.from('coexist-local-token-sealing-key!').toString('base64'))
    .describe(
      'AES-256-GCM key (32 bytes, base64) that seals business access tokens before they enter workflow state, so history never holds a token in plain text',
    ),

  PAYLOAD_CODEC_KEYS: z
    .string()
    .transform((v, ctx) => {
      const keys = v
        .split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => {
          const at = pair.indexOf(':');
          return { id: at < 0 ? '' : pair.slice(0, at), key: Buffer.from(at < 0 ? '' : pair.slice(at + 1), 'base64') };
        });
      const ids = keys.map((k) => k.id);
      if (
        keys.length === 0 ||
        keys.some((k) => !/^[A-Za-z0-9._-]{1,64}$/.test(k.id) || k.key.length !== 32) ||
        new Set(ids).size !== ids.length
      ) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be id:key pairs, comma-separated (ids [A-Za-z0-9._-], distinct; keys 32 bytes, base64-encoded); the first encrypts',
        });
        return z.NEVER;
      }
      return keys;
    })
    .prefault(`local-1:${Buffer.from('coexist-local-payload-codec-key!').toString('base64')}`)
    .describe(
      'Keys of the Temporal payload codec (security/payload-codec.ts): comma-separated `id:key` pairs, each key 32 bytes base64. The first encrypts every new payload; all decrypt, so a rotation puts the new key first and keeps the old ones until their histories are gone',
    ),
  CODEC_CORS_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .url({ protocol: /^https?$/ })
            .refine((o) => new URL(o).origin === o, 'must be an origin like https://temporal-ui.example'),
        )
        .min(1),
    )
    .optional()
    .describe(
      "Origins allowed to call the API's codec endpoint from a browser (a Temporal Web UI), comma-separated. Unset: the local dev server's Web UI",
    ),

  META_GRAPH_BASE_URL: url
    .optional()
    .describe("Meta's Graph API (https://graph.facebook.com). Unset: the simulator at SIMULATOR_PORT"),
  META_GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v24.0')
    .default('v24.0')
    .describe('The Graph API version in every Meta URL'),
  META_APP_ID: z.string().min(1).default('1000000000000001').describe("The Meta app's id"),
  META_APP_SECRET: z
    .string()
    .min(16)
    .default('local-meta-app-secret')
    .describe("The Meta app's secret: exchanges signup codes and checks webhook signatures"),
  META_WEBHOOK_VERIFY_TOKEN: z
    .string()
    .min(8)
    .default('local-verify-token')
    .describe("The token Meta's webhook subscription check must present"),

  OPS_TOKENS: z
    .string()
    .transform((v, ctx) => {
      const pairs = v
        .split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => {
          const at = pair.indexOf(':');
          return at < 0 ? { name: '', token: '' } : { name: pair.slice(0, at), token: pair.slice(at + 1) };
        });
      if (pairs.length === 0 || pairs.some((p) => !/^[A-Za-z0-9._-]{1,64}$/.test(p.name) || p.token.length < 16)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be name:token pairs, comma-separated (names [A-Za-z0-9._-], tokens of 16+ characters)',
        });
        return z.NEVER;
      }
      return pairs;
    })
    .prefault('ops:local-ops-token-change-me')
    .describe(
      'Operators who may use the ops routes, the /ops page and the codec: comma-separated `name:token` pairs (tokens of 16+ characters). An operator signs in with the token, the part after the colon; the name goes to the audit trail as `ops:<name>`',
    ),
  OPS_STAGE_BUDGETS: z
    .string()
    .transform((v, ctx) => {
      try {
        return stageBudgetsSchema.parse(JSON.parse(v));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of stage: milliseconds, e.g. {"linking":600000}' });
        return z.NEVER;
      }
    })
    .prefault('{}')
    .describe(
      `Time budgets per onboarding stage (JSON of stage: ms, over the defaults; stages ${BUDGETED_STAGES.join(', ')}): past its budget an onboarding is stuck. A blocked onboarding is always stuck`,
    ),

  SIMULATOR_ENABLED: bool.default(true).describe("`npm start` runs the Meta Graph API simulator (`false`: it doesn't)"),
  SIMULATOR_PORT: port.default(4010).describe("The simulator's port"),
});

export type Config = Omit<z.infer<typeof configSchema>, 'META_GRAPH_BASE_URL'> & { META_GRAPH_BASE_URL: string };

/** Variables that have a development default but must be set explicitly in production. */
export const requiredInProduction = [
  'TEMPORAL_ADDRESS',
  'DATABASE_URL',
  'BACKEND_API_KEY',
  'BACKEND_CALLBACK_URL',
  'BACKEND_CALLBACK_SECRET',
  'TOKEN_SEALING_KEY',
  'PAYLOAD_CODEC_KEYS',
  'META_GRAPH_BASE_URL',
  'META_APP_ID',
  'META_APP_SECRET',
  'META_WEBHOOK_VERIFY_TOKEN',
  'OPS_TOKENS',
] as const satisfies readonly (keyof Config)[];

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; reason: string }[]) {
    super('invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.reason}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Secrets that may also come from a file named by `<NAME>_FILE` (Docker and Kubernetes secrets),
 * so that they need not be in the environment.
 */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'BACKEND_API_KEY',
  'BACKEND_CALLBACK_SECRET',
  'TOKEN_SEALING_KEY',
  'PAYLOAD_CODEC_KEYS',
  'META_APP_SECRET',
  'META_WEBHOOK_VERIFY_TOKEN',
  'OPS_TOKENS',
] as const satisfies readonly (keyof Config)[];

/** The variables, with each `<SECRET>_FILE` read into its secret. */
function withSecretFiles(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; issues: { variable: string; reason: string }[] } {
  const out = { ...env };
  const issues: { variable: string; reason: string }[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      issues.push({ variable: `${name}_FILE`, reason: `set together with ${name}: choose one` });
      continue;
    }
    try {
      out[name] = readFileSync(file, 'utf8').trim();
    } catch (err) {
      issues.push({
        variable: `${name}_FILE`,
        reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  }
  return { env: out, issues };
}

export function loadConfig(given: NodeJS.ProcessEnv = process.env): Config {
  const { env, issues } = withSecretFiles(given);
  // A secret set to nothing is a mistake, never a wish for the published development value.
  for (const name of SECRET_VARIABLES) {
    if (env[name] === '') issues.push({ variable: name, reason: 'is set but empty: give it a value, or unset it' });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  // Other empty strings count as unset, as in most shells and compose files.
  const raw = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), reason: i.message })));
  }
  if (parsed.data.BACKEND_PUSH_EVENTS.length > 0 && parsed.data.BACKEND_CALLBACK_URL === undefined) {
    throw new ConfigError([{ variable: 'BACKEND_PUSH_EVENTS', reason: 'needs BACKEND_CALLBACK_URL, where the pushes go' }]);
  }
  if (parsed.data.COEXIST_ENV === 'production') {
    const missing = requiredInProduction.filter((k) => raw[k] === undefined);
    if (missing.length > 0) {
      throw new ConfigError(missing.map((variable) => ({ variable, reason: 'required when COEXIST_ENV=production' })));
    }
    // The development secrets are in this repository, so they are no secrets at all.
    const localDefaults = configSchema.parse({});
    const published = SECRET_VARIABLES.filter(
      (k) => localDefaults[k] !== undefined && JSON.stringify(parsed.data[k]) === JSON.stringify(localDefaults[k]),
    );
    if (published.length > 0) {
      throw new ConfigError(
        published.map((variable) => ({
          variable,
          reason: 'is the local development value, published in the repository: set a secret of your own',
        })),
      );
    }
  }
  return {
    ...parsed.data,
    META_GRAPH_BASE_URL: parsed.data.META_GRAPH_BASE_URL ?? `http://127.0.0.1:${parsed.data.SIMULATOR_PORT}`,
  };
}

/** The address clients and workers connect to: the configured server or the local dev server. */
export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_SERVER_PORT}`;
}

/** Where a process on this machine reaches the API (its `API_HOST`, or loopback when that is every interface). */
export function localApiUrl(config: Pick<Config, 'API_HOST' | 'API_PORT'>): string {
  return `http://${config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST}:${config.API_PORT}`;
}
