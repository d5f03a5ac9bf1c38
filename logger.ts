import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

/** Field names whose values never reach a log line, wherever they appear (up to three levels deep). */
export const SECRET_FIELDS = [
  'accessToken',
  'access_token',
  'sealedToken',
  'token',
  'appSecret',
  'client_secret',
  'secret',
  'password',
  'authorization',
  'cookie',
  'META_APP_SECRET',
  'META_WEBHOOK_VERIFY_TOKEN',
  'BACKEND_API_KEY',
  'BACKEND_CALLBACK_SECRET',
  'TOKEN_SEALING_KEY',
  'PAYLOAD_CODEC_KEYS',
  'OPS_TOKENS',
  'DATABASE_URL',
  'x-api-key',
  'x-hub-signature-256',
  'x-coexist-signature',
  'hub.verify_token',
];

/** What every log line of the current request or activity carries (see `logContext`). */
export interface LogContext {
  /** API: the request's X-Request-Id (taken from the caller or generated). */
  requestId?: string;
  /** Activities: the workflow that runs it, the activity, and Meta's phone_number_id when known. */
  workflowId?: string;
  activity?: string;
  phoneNumberId?: string;
}

/**
 * The context of the request or activity being served. Every logger made by `createLogger` adds
 * it to each line, so that code holding a process-wide logger still logs the request id (API) or
 * workflow and phone number id (activities) without passing child loggers around.
 */
export const logContext = new AsyncLocalStorage<LogContext>();

/**
 * LOG_FORMAT, or when unset: `pretty` for a person at a terminal, `json` for everything else (a
 * pipe, a file, a container's log collector, or a destination the caller gives).
 */
export function logFormat(config: Partial<Pick<Config, 'LOG_FORMAT'>>, destination?: DestinationStream): 'json' | 'pretty' {
  return config.LOG_FORMAT ?? (destination === undefined && process.stdout.isTTY ? 'pretty' : 'json');
}

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT'>>,
  name: string,
  destination?: DestinationStream,
): Logger {
  const out =
    logFormat(config, destination) === 'pretty'
      ? prettyStream(destination ?? { write: (text: string) => void process.stdout.write(text) })
      : destination;
  return pino(
    {
      name,
      level: config.LOG_LEVEL,
      // A copy: pino merges the line's own fields into what the mixin returns.
      mixin: () => ({ ...logContext.getStore() }),
      redact: {
        paths: SECRET_FIELDS.flatMap((f) => ['', '*', '*.*', '*.*.*'].map((prefix) => redactPath(prefix, f))),
        censor: '[redacted]',
      },
    },
    out,
  );
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * `LOG_FORMAT=pretty`: each JSON line (already redacted) as `time LEVEL part: message key=value…`,
 * an error's stack on the lines below.
 */
export function prettyStream(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        out.write(line);
        return;
      }
      const { time, level, name, msg, err, pid: _pid, hostname: _hostname, ...fields } = entry;
      const clock = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
      const rest = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
        .join(' ');
      const stack =
        err && typeof err === 'object'
          ? `\n    ${String((err as { stack?: unknown }).stack ?? JSON.stringify(err)).replace(/\n/g, '\n    ')}`
          : '';
      out.write(
        `${clock} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${name}: ${msg ?? ''}${rest ? `  ${rest}` : ''}${stack}\n`,
      );
    },
  };
}

/** A redaction path; names that are not identifiers (`x-api-key`, `hub.verify_token`) in brackets. */
function redactPath(prefix: string, field: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(field)) return prefix ? `${prefix}.${field}` : field;
  return `${prefix}["${field}"]`;
}
