/**
 * Log lines: secrets redacted wherever they sit, and the request's or activity's context on
 * every line written while serving it.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { withLogContext } from '../../activities/log-context';
import { createLogger, logContext, logFormat } from '../../logger';

function capture() {
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  const log = createLogger({ LOG_LEVEL: 'debug' }, 'test', {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return { log, lines, raw };
}

test('tokens, secrets and credential headers come out redacted, at the top and nested', () => {
  const { log, lines, raw } = capture();
  log.info(
    {
      access_token: 'EAAG-plain-access-token',
      sealedToken: 'sealed-token-value',
      appSecret: 'the-app-secret',
      req: {
        headers: {
          authorization: 'Bearer ops-token-value',
          'x-api-key': 'backend-api-key-value',
          'x-hub-signature-256': 'sha256=abc',
          'content-type': 'application/json',
        },
      },
      call: { query: { client_secret: 'client-secret-value', code: 'kept' } },
      context: { onboarding: { credentials: { accessToken: 'deep-token-value' } } },
      config: {
        META_APP_SECRET: 'meta-secret',
        BACKEND_CALLBACK_SECRET: 'callback-secret',
        TOKEN_SEALING_KEY: 'sealing-key',
        DATABASE_URL: 'postgres://u:pw@h/db',
      },
      phoneNumberId: '106540352242922',
    },
    'a line with secrets',
  );
  const [line] = lines;
  expect(line).toMatchObject({
    access_token: '[redacted]',
    sealedToken: '[redacted]',
    appSecret: '[redacted]',
    req: {
      headers: {
        authorization: '[redacted]',
        'x-api-key': '[redacted]',
        'x-hub-signature-256': '[redacted]',
        'content-type': 'application/json',
      },
    },
    call: { query: { client_secret: '[redacted]', code: 'kept' } },
    context: { onboarding: { credentials: { accessToken: '[redacted]' } } },
    config: {
      META_APP_SECRET: '[redacted]',
      BACKEND_CALLBACK_SECRET: '[redacted]',
      TOKEN_SEALING_KEY: '[redacted]',
      DATABASE_URL: '[redacted]',
    },
    phoneNumberId: '106540352242922',
  });
  for (const secret of [
    'EAAG',
    'sealed-token-value',
    'the-app-secret',
    'ops-token-value',
    'backend-api-key-value',
    'sha256=abc',
    'client-secret-value',
    'deep-token-value',
    'meta-secret',
    'callback-secret',
    'sealing-key',
    'pw@h',
  ]) {
    expect(raw[0]).not.toContain(secret);
  }
});

test("every line written inside a request's context carries its request id, without a child logger", async () => {
  const { log, lines } = capture();
  await logContext.run({ requestId: 'req-1' }, async () => {
    log.info('first');
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.warn({ unrouted: ['field:x'] }, 'after an await');
  });
  log.info('outside');
  expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
    ['first', 'req-1'],
    ['after an await', 'req-1'],
    ['outside', undefined],
  ]);
});

test('activities log with their workflow id, name and phone number id', async () => {
  const { log, lines } = capture();
  const activities = withLogContext({
    async sendMessage(_input: { phoneNumberId: string }) {
      log.info('sending');
    },
    async recordMessage(_record: { id: string }) {
      log.info('recording');
    },
    async notifyBackend(_params: { kind: string }) {
      log.info('notifying');
    },
  });
  await new MockActivityEnvironment({
    activityType: 'sendMessage',
    workflowExecution: { workflowId: 'sender:106540352242922', runId: 'r1' },
  }).run(activities.sendMessage, { phoneNumberId: '106540352242922' });
  await new MockActivityEnvironment({
    activityType: 'recordMessage',
    workflowExecution: { workflowId: 'conversation:106540352242922:16505551234', runId: 'r2' },
  }).run(activities.recordMessage, { id: 'wamid.1' });
  await new MockActivityEnvironment({
    activityType: 'notifyBackend',
    workflowExecution: { workflowId: 'onboarding:+15550783881', runId: 'r3' },
  }).run(activities.notifyBackend, { kind: 'active' });
  expect(lines.map(({ msg, workflowId, activity, phoneNumberId }) => ({ msg, workflowId, activity, phoneNumberId }))).toEqual([
    { msg: 'sending', workflowId: 'sender:106540352242922', activity: 'sendMessage', phoneNumberId: '106540352242922' },
    {
      msg: 'recording',
      workflowId: 'conversation:106540352242922:16505551234',
      activity: 'recordMessage',
      phoneNumberId: '106540352242922',
    },
    { msg: 'notifying', workflowId: 'onboarding:+15550783881', activity: 'notifyBackend', phoneNumberId: undefined },
  ]);
});

test('LOG_FORMAT=pretty writes one readable line per entry, secrets still redacted; json stays the default off a terminal', () => {
  const raw: string[] = [];
  const log = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' }, 'start', {
    write: (line: string) => void raw.push(line),
  });
  log.info({ url: 'http://127.0.0.1:3000', authorization: 'Bearer ops-token-value', settings: { a: 1 } }, 'API listening');
  log.error({ err: new Error('port taken') }, 'API failed');
  expect(raw[0]).toMatch(
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}start: API listening {2}url=http:\/\/127\.0\.0\.1:3000 authorization=\[redacted\] settings=\{"a":1\}\n$/,
  );
  expect(raw[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR start: API failed\n {4}Error: port taken\n\s+at /);
  expect(raw.join('')).not.toContain('ops-token-value');

  expect(logFormat({ LOG_FORMAT: 'json' })).toBe('json');
  expect(logFormat({}, { write: () => undefined })).toBe('json');
  const json: string[] = [];
  createLogger({ LOG_LEVEL: 'info' }, 'api', { write: (line: string) => void json.push(line) }).info('up');
  expect(JSON.parse(json[0]!)).toMatchObject({ name: 'api', msg: 'up', level: 30 });
});
