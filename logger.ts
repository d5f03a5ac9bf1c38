import pino, { type Logger } from 'pino';
import type { Config } from './config';

/** Field names whose values never reach a log line, wherever they appear. */
export const SECRET_FIELDS = [
  'accessToken',
  'access_token',
  'sealedToken',
  'token',
  'appSecret',
  'client_secret',
  'authorization',
  'META_APP_SECRET',
  'BACKEND_API_KEY',
  'x-api-key',
  'x-hub-signature-256',
];

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact: {
      paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `req.headers["${f}"]`]),
      censor: '[redacted]',
    },
  });
}
