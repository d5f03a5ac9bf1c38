import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BUDGETED_STAGES } from './machines/onboarding';

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
  COEXIST_ENV: z.enum(['local', 'production']).default('local'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  /** Set: use that Temporal server and start none. Unset: `npm start` runs the dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('coexist'),
  TEMPORAL_DEV_SERVER_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  TEMPORAL_DATA_DIR: z.string().min(1).default('.data'),

  /**
   * The message store's PostgreSQL (`postgres://` or `postgresql://`), or `memory://` for a
   * throw-away one. Unset: an embedded PGlite under TEMPORAL_DATA_DIR, which only one process can
   * open, so `npm start` but not `npm run worker` and `npm run api` apart.
   */
  DATABASE_URL: z
    .string()
    .refine(
      (v) => v === 'memory://' || (/^postgres(ql)?:\/\/[^/]/.test(v) && URL.canParse(v)),
      'must be a postgres:// or postgresql:// URL, or memory://',
    )
    .optional(),

  /** Worker tuning; the reasons for each default are in worker.ts. */
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt.default(1000),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(40),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  WORKER_SHUTDOWN_GRACE_MS: positiveInt.default(10_000),

  /**
   * Sending. A send for a number that cannot send (payment missing, offboarded, restricted...) is
   * held this long (ms; 24 h: a template's or a window's meaning changes with time), then failed.
   */
  SEND_HOLD_LIMIT_MS: positiveInt.default(24 * 60 * 60_000),
  /** While sends are held, how often the sender looks for sends to fail (hold limit, window closed), ms at most. */
  SEND_HELD_RECHECK_MS: positiveInt.default(60_000),
  /** Sends a number's queue takes; beyond it the send API answers 429 with Retry-After and the depth. */
  SEND_QUEUE_DEPTH_LIMIT: positiveInt.default(100_000),
  /**
   * The worker's Prometheus endpoint (`/metrics`): Temporal's worker metrics (`temporal_*`), and,
   * when the worker runs on its own (`npm run worker`), coexist's activity metrics. 0: none.
   */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** How long `GET /metrics` reuses the onboarding gauges it read from Temporal visibility (ms; 0: every scrape). */
  METRICS_VISIBILITY_CACHE_MS: z.coerce.number().int().min(0).default(15_000),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Key the backend sends in `X-Api-Key`. */
  BACKEND_API_KEY: z.string().min(16).default('local-backend-api-key'),

  /** Where the backend is told of changes it must act on; unset: changes are only logged. */
  BACKEND_CALLBACK_URL: url.optional(),
  /** HMAC-SHA256 key of the `X-Coexist-Signature` header on callbacks. */
  BACKEND_CALLBACK_SECRET: z.string().min(16).default('local-backend-callback-secret'),

  /**
   * AES-256-GCM key (base64, 32 bytes) that seals business access tokens before they enter
   * workflow state, so history never holds a token in plain text.
   */
  TOKEN_SEALING_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .default(Buffer.from('coexist-local-token-sealing-key!').toString('base64')),

  /**
   * Keys of the Temporal payload codec (security/payload-codec.ts): comma-separated `id:key` pairs,
   * each key 32 bytes base64-encoded. The first encrypts every new payload; all of them decrypt,
   * so a rotation puts the new key first and keeps the old ones until their histories are gone.
   */
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
    .default([{ id: 'local-1', key: Buffer.from('coexist-local-payload-codec-key!') }]),
  /**
   * Origins allowed to call the codec endpoint from a browser (the Temporal Web UI), comma-separated;
   * unset: the local dev server's Web UI.
   */
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
    .optional(),

  /** Meta's Graph API (https://graph.facebook.com); unset: the simulator at SIMULATOR_PORT. */
  META_GRAPH_BASE_URL: url.optional(),
  META_GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v24.0')
    .default('v24.0'),
  META_APP_ID: z.string().min(1).default('1000000000000001'),
  META_APP_SECRET: z.string().min(16).default('local-meta-app-secret'),
  META_WEBHOOK_VERIFY_TOKEN: z.string().min(8).default('local-verify-token'),

  /**
   * Operators who may use the ops routes and page: comma-separated `name:token` pairs (the name
   * goes to the audit trail as `ops:<name>`). Tokens of at least 16 characters.
   */
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
    .default([{ name: 'ops', token: 'local-ops-token-change-me' }]),
  /**
   * Time budgets per onboarding stage (JSON, ms), over the defaults: past its budget an onboarding
   * is stuck. A blocked onboarding is always stuck.
   */
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
    .default({}),

  /** `npm start` runs the Graph API simulator on this port unless SIMULATOR_ENABLED=false. */
  SIMULATOR_ENABLED: bool.default(true),
  SIMULATOR_PORT: port.default(4010),
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
