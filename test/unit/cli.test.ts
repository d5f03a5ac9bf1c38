/**
 * The ops CLI without a network: argument parsing and defaults, the requests it makes, the table
 * and block it prints, and its exit codes, with fetch answered in memory as the API would answer.
 */
import {
  EXIT_API_ERROR,
  EXIT_OK,
  EXIT_USAGE,
  formatDuration,
  parseCli,
  renderList,
  renderShow,
  requestFor,
  run,
  truncate,
  UsageError,
  type CliIo,
  type ListAnswer,
  type ShowAnswer,
} from '../../scripts/cli';

const local = { COEXIST_ENV: 'local' };
const connection = { apiUrl: 'http://127.0.0.1:3000', token: 'local-ops-token-change-me' };

function usageError(argv: string[], env: NodeJS.ProcessEnv = local): string {
  try {
    parseCli(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('parsing', () => {
  test('list with every filter', () => {
    expect(
      parseCli(
        ['ops', 'list', '--stage', 'linking', '--stuck', '--blocked-reason', 'qr_not_scanned', '--limit', '20', '--json'],
        local,
      ),
    ).toEqual({
      kind: 'run',
      command: { name: 'list', query: { stage: 'linking', stuck: true, blockedReason: 'qr_not_scanned', limit: 20 }, json: true },
      connection,
    });
    expect(parseCli(['ops', 'list', '--not-stuck', '--page-token', 'abc_-1'], local)).toMatchObject({
      command: { name: 'list', query: { stuck: false, pageToken: 'abc_-1' }, json: false },
    });
    expect(parseCli(['ops', 'list'], local)).toMatchObject({ command: { name: 'list', query: {} } });
  });

  test('show and the actions take one phone number, E.164 with or without the +', () => {
    expect(parseCli(['ops', 'show', '+15550783881'], local)).toMatchObject({
      command: { name: 'show', phoneNumber: '+15550783881', json: false },
    });
    expect(parseCli(['ops', 'show', '15550783881', '--json'], local)).toMatchObject({
      command: { name: 'show', phoneNumber: '+15550783881', json: true },
    });
    const actions: [string, object][] = [
      ['retry', { action: 'retry' }],
      ['refresh-linking', { action: 'refreshLinking' }],
      ['refresh-status-card', { action: 'refreshStatusCard' }],
      ['recheck-payment', { action: 'recheckPayment' }],
      ['cancel', { action: 'cancel' }],
    ];
    for (const [command, body] of actions) {
      expect(parseCli(['ops', command, '+15550783881'], local)).toMatchObject({
        command: { name: 'action', phoneNumber: '+15550783881', body },
      });
    }
    expect(parseCli(['ops', 'reset', '+15550783881', '--to', 'signup'], local)).toMatchObject({
      command: { name: 'action', body: { action: 'reset', to: 'signup' } },
    });
  });

  test('help', () => {
    expect(parseCli(['--help'], local)).toEqual({ kind: 'help' });
    expect(parseCli(['ops', 'list', '-h'], local)).toEqual({ kind: 'help' });
    expect(parseCli(['help'], local)).toEqual({ kind: 'help' });
  });

  test.each([
    [[], /missing command/],
    [['ops'], /missing command after `ops`/],
    [['deploy'], /unknown command: deploy/],
    [['ops', 'dance', '+15550783881'], /unknown command: ops dance/],
    [['ops', 'list', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['ops', 'list', '--stage'], /argument missing/],
    [['ops', 'list', '--stage', 'dancing'], /--stage must be one of prerequisites, signup/],
    [['ops', 'list', '--blocked-reason', 'nope'], /--blocked-reason must be one of .*qr_not_scanned/],
    [['ops', 'list', '--limit', 'many'], /--limit/],
    [['ops', 'list', '--limit', '500'], /--limit: Too big/],
    [['ops', 'list', '--stuck', '--not-stuck'], /exclude each other/],
    [['ops', 'list', '+15550783881'], /`ops list` takes no arguments/],
    [['ops', 'show'], /`ops show` takes one phone number/],
    [['ops', 'show', '+1', '+2'], /`ops show` takes one phone number/],
    [['ops', 'show', 'not-a-number'], /not an E\.164 phone number: not-a-number/],
    [['ops', 'show', '+15550783881', '--stage', 'linking'], /--stage does not apply to `ops show`/],
    [['ops', 'retry', '+15550783881', '--to', 'signup'], /--to does not apply to `ops retry`/],
    [['ops', 'reset', '+15550783881'], /`ops reset` needs --to <stage>/],
    [['ops', 'reset', '+15550783881', '--to', 'active'], /--to must be one of prerequisites, signup, linking, registration/],
  ])('usage error: %j', (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });
});

describe('where to call and with which token', () => {
  const list = ['ops', 'list'];

  test('defaults from the config: API_HOST and API_PORT, and the first ops token when local', () => {
    expect(parseCli(list, {})).toMatchObject({ connection });
    expect(
      parseCli(list, {
        API_HOST: '0.0.0.0',
        API_PORT: '3100',
        OPS_TOKENS: 'alice:alice-token-0123456789,bob:bob-token-0123456789',
      }),
    ).toMatchObject({
      connection: { apiUrl: 'http://127.0.0.1:3100', token: 'alice-token-0123456789' },
    });
    expect(parseCli(list, { API_HOST: '::' })).toMatchObject({ connection: { apiUrl: 'http://[::1]:3000' } });
  });

  test('the environment over the config, flags over the environment; empty counts as unset', () => {
    const env = { COEXIST_API_URL: 'https://coexist.example.com/', COEXIST_OPS_TOKEN: 'env-token-0123456789' };
    expect(parseCli(list, env)).toMatchObject({
      connection: { apiUrl: 'https://coexist.example.com', token: 'env-token-0123456789' },
    });
    expect(parseCli([...list, '--api', 'http://10.0.0.5:3000', '--token', 'flag-token'], env)).toMatchObject({
      connection: { apiUrl: 'http://10.0.0.5:3000', token: 'flag-token' },
    });
    expect(parseCli(list, { COEXIST_API_URL: '', COEXIST_OPS_TOKEN: '' })).toMatchObject({ connection });
  });

  test('no default token in production', () => {
    expect(usageError(list, { COEXIST_ENV: 'production' })).toMatch(/no ops token: pass --token or set COEXIST_OPS_TOKEN/);
    expect(parseCli([...list, '--token', 'prod-token-0123456789'], { COEXIST_ENV: 'production' })).toMatchObject({
      connection: { token: 'prod-token-0123456789' },
    });
  });

  test('bad addresses and config values are usage errors naming them', () => {
    expect(usageError([...list, '--api', 'ftp://x'])).toMatch(/^--api must be an http\(s\) URL/);
    expect(usageError(list, { COEXIST_API_URL: 'nope' })).toMatch(/^COEXIST_API_URL must be an http\(s\) URL/);
    expect(usageError(list, { API_PORT: '99999' })).toMatch(/^API_PORT: /);
    expect(usageError(list, { OPS_TOKENS: 'short' })).toMatch(/^OPS_TOKENS: must be name:token pairs/);
    expect(usageError([...list, '--token', 'has space'])).toMatch(/without spaces/);
  });
});

describe('requests', () => {
  const api = 'http://127.0.0.1:3000';
  const command = (argv: string[]) => {
    const parsed = parseCli(argv, local);
    if (parsed.kind !== 'run') throw new Error('not a command');
    return parsed.command;
  };

  test('list: the filters as the query string', () => {
    expect(requestFor(command(['ops', 'list']), api)).toEqual({ method: 'GET', url: `${api}/ops/onboardings` });
    expect(
      requestFor(
        command([
          'ops',
          'list',
          '--stage',
          'blocked',
          '--stuck',
          '--blocked-reason',
          'qr_not_scanned',
          '--limit',
          '5',
          '--page-token',
          'tok',
        ]),
        api,
      ),
    ).toEqual({
      method: 'GET',
      url: `${api}/ops/onboardings?stage=blocked&stuck=true&blockedReason=qr_not_scanned&limit=5&pageToken=tok`,
    });
    expect(requestFor(command(['ops', 'list', '--not-stuck']), api).url).toBe(`${api}/ops/onboardings?stuck=false`);
  });

  test('show and actions: the + URL-encoded, the action as the body', () => {
    expect(requestFor(command(['ops', 'show', '+15550783881']), api)).toEqual({
      method: 'GET',
      url: `${api}/ops/onboardings/%2B15550783881`,
    });
    expect(requestFor(command(['ops', 'refresh-linking', '+15550783881']), api)).toEqual({
      method: 'POST',
      url: `${api}/ops/onboardings/%2B15550783881/actions`,
      body: { action: 'refreshLinking' },
    });
    expect(requestFor(command(['ops', 'reset', '+15550783881', '--to', 'linking']), api).body).toEqual({
      action: 'reset',
      to: 'linking',
    });
  });
});

const NOW = Date.parse('2025-11-25T12:00:00.000Z');
const REMEDY =
  'The QR code was not scanned in time. Open WhatsApp Business on the phone, go to Linked devices and scan the new QR code shown on the page before it expires.';

const listAnswer: ListAnswer = {
  onboardings: [
    {
      id: 'onboarding:+15550000001',
      phoneNumber: '+15550000001',
      wabaId: '102290129340398',
      stage: 'blocked',
      since: '2025-11-25T09:30:00.000Z',
      ageMs: 2.5 * 3_600_000,
      budgetMs: null,
      stuck: true,
      blockedReason: 'qr_not_scanned',
      remedy: REMEDY,
      linkingAttempts: 3,
      waitingFor: { actor: 'person', waitsFor: 'the person to act on the remedy, then ops to retry' },
    },
    {
      id: 'onboarding:+15550000002',
      phoneNumber: '+15550000002',
      wabaId: null,
      stage: 'prerequisites',
      since: '2025-11-25T11:59:18.000Z',
      ageMs: 42_000,
      budgetMs: 86_400_000,
      stuck: false,
      blockedReason: null,
      remedy: null,
      linkingAttempts: 0,
    },
  ],
  nextPageToken: 'next_page',
};

describe('rendering', () => {
  test('durations', () => {
    expect([0, 42_000, 192_000, 2 * 3_600_000 + 5 * 60_000, 3 * 86_400_000 + 4 * 3_600_000, -5].map(formatDuration)).toEqual([
      '0s',
      '42s',
      '3m12s',
      '2h05m',
      '3d04h',
      '0s',
    ]);
    expect(truncate('a  long\n text', 20)).toBe('a long text');
    expect(truncate('abcdefghij', 6)).toBe('abcde…');
  });

  test('list: a table with the STUCK marker, reason and remedy truncated to the width, and the next page', () => {
    const text = renderList(listAnswer, { now: NOW, columns: 120 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^PHONE\s+STAGE\s+SINCE\s+AGE\s+STUCK\s+LINK\s+WAITS ON\s+REASON\s+REMEDY$/);
    expect(lines[1]).toMatch(
      /^\+15550000001\s+blocked\s+2025-11-25 09:30:00Z\s+2h30m\s+STUCK\s+3\s+person\s+qr_not_scanned\s+The QR code was not/,
    );
    expect(lines[1]).toMatch(/…$/);
    expect(lines[2]).toMatch(/^\+15550000002\s+prerequisites\s+2025-11-25 11:59:18Z\s+42s\s+0$/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    // Columns line up: the stage starts at the same place in every row.
    expect(new Set(lines.slice(0, 3).map((l) => l.search(/STAGE|blocked|prerequisites/))).size).toBe(1);
    expect(text).toContain('2 onboardings, 1 stuck');
    expect(text).toContain('more: --page-token next_page');
  });

  test('list: an age from since when the API gives none, and an empty answer', () => {
    const [row] = listAnswer.onboardings;
    expect(renderList({ onboardings: [{ ...row!, ageMs: undefined }] }, { now: NOW, columns: 200 })).toMatch(/2h30m/);
    expect(renderList({ onboardings: [] }, { now: NOW, columns: 80 })).toBe('No onboardings match.');
  });

  const detail: ShowAnswer = {
    id: 'onboarding:+15550000001',
    phoneNumber: '+15550000001',
    wabaId: '102290129340398',
    stage: 'blocked',
    state: 'blocked',
    status: 'active',
    since: '2025-11-25T09:30:00.000Z',
    ageMs: 2.5 * 3_600_000,
    budgetMs: null,
    stuck: true,
    linkingAttempts: 3,
    blocked: { reason: 'qr_not_scanned', remedy: REMEDY, stage: 'linking' },
    waitingFor: { actor: 'person', waitsFor: 'the person to act on the remedy, then ops to retry' },
    actions: [{ action: 'retry' }, { action: 'cancel' }, { action: 'reset', to: 'linking' }],
    statusCard: { qualityRating: 'GREEN', throughput: { level: 'STANDARD', messagesPerSecond: 20 } },
    timeline: [
      { at: '2025-11-25T09:00:00.000Z', from: 'prerequisites', to: 'signup', event: 'prerequisites.report', by: 'backend' },
      { at: '2025-11-25T09:30:00.000Z', from: 'linking.awaitingScan', to: 'blocked', event: 'xstate.after.attemptTtl' },
    ],
    pendingTimers: [{ id: 't1', event: 'payment.recheck', dueAt: '2025-11-25T12:10:00.000Z' }],
    activities: [{ type: 'fetchStatusCard', attempt: 4, lastFailure: 'Graph API 500: try again later' }],
  };

  test('show: state, blocked reason and remedy, timeline, pending timers, activities', () => {
    const text = renderShow(detail, { now: NOW, columns: 100 });
    expect(text).toMatch(/^\+15550000001 {2}onboarding:\+15550000001 {2}STUCK$/m);
    expect(text).toMatch(/^ {2}stage +blocked, since 2025-11-25 09:30:00Z \(2h30m\)$/m);
    expect(text).toMatch(/^ {2}state +blocked \(active\)$/m);
    expect(text).toMatch(/^ {2}blocked +qr_not_scanned \(in linking\)$/m);
    expect(text).toMatch(/^ {2}remedy +The QR code was not scanned in time\./m);
    expect(text).toMatch(/^ {2}waits on +person: the person to act on the remedy, then ops to retry$/m);
    expect(text).toMatch(/^ {2}repairs +retry, cancel, reset --to linking$/m);
    // The remedy is wrapped, not cut: every word is there.
    expect(text.replace(/\s+/g, ' ')).toContain(REMEDY);
    expect(text).toMatch(/status card +qualityRating=GREEN, throughput\.level=STANDARD, throughput\.messagesPerSecond=20/);
    expect(text).toMatch(
      /Timeline \(2\)\n {2}2025-11-25 09:00:00Z {2}prerequisites +→ signup +prerequisites\.report {2}by backend\n/,
    );
    expect(text).toMatch(/linking\.awaitingScan → blocked +xstate\.after\.attemptTtl$/m);
    expect(text).toMatch(/Pending timers\n {2}payment\.recheck {2}due 2025-11-25 12:10:00Z \(in 10m00s\)/);
    expect(text).toMatch(/Activities\n {2}fetchStatusCard {2}attempt 4 {2}last failure: Graph API 500: try again later/);
  });

  test('show: not blocked, nothing pending', () => {
    const text = renderShow(
      {
        ...detail,
        stuck: false,
        stage: 'linking',
        state: 'linking.awaitingScan',
        blocked: null,
        budgetMs: 600_000,
        timeline: [],
        pendingTimers: [],
        activities: [],
      },
      { now: NOW, columns: 100 },
    );
    expect(text).not.toContain('STUCK');
    expect(text).toMatch(/stage +linking, since .*, budget 10m00s/);
    expect(text).toMatch(/blocked +no/);
    expect(text).toMatch(/Timeline \(0\)\n {2}\(none\)/);
    expect(text).toMatch(/Pending timers\n {2}\(none\)/);
    expect(text).toMatch(/Activities\n {2}\(none running\)/);
  });
});

describe('run: exit codes and what is printed', () => {
  function io(answer: (url: string, init: RequestInit) => Response | Promise<Response>, env: NodeJS.ProcessEnv = local) {
    const out: string[] = [];
    const err: string[] = [];
    const calls: { url: string; init: RequestInit }[] = [];
    const cli: CliIo = {
      env,
      fetch: (async (url: string, init: RequestInit) => {
        calls.push({ url, init });
        return answer(url, init);
      }) as typeof fetch,
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      now: () => NOW,
      columns: 120,
    };
    return { cli, out, err, calls };
  }
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  test('0 with the table, the token as a bearer', async () => {
    const t = io(() => json(200, listAnswer));
    expect(await run(['ops', 'list', '--stuck'], t.cli)).toBe(EXIT_OK);
    expect(t.out.join('\n')).toMatch(/\+15550000001\s+blocked/);
    expect(t.calls[0]!.url).toBe('http://127.0.0.1:3000/ops/onboardings?stuck=true');
    expect(new Headers(t.calls[0]!.init.headers).get('authorization')).toBe('Bearer local-ops-token-change-me');
  });

  test('parked: the page of parked effects, newest first, with the cursor for more', async () => {
    const parked = {
      parked: [
        {
          parkedAt: '2026-12-04T12:00:00.000Z',
          workflowId: 'conversation:106540352242922:16505551234',
          action: 'recordMessage',
          reason: 'conflict',
          error: 'message wamid.A1 of phone number id 106540352242922 is already recorded as a different message',
          attempts: 1,
          params: { id: 'wamid.A1' },
        },
      ],
      nextCursor: 'NDI',
    };
    const t = io(() => json(200, parked));
    expect(await run(['ops', 'parked', '--limit', '1'], t.cli)).toBe(EXIT_OK);
    expect(t.calls[0]!.url).toBe('http://127.0.0.1:3000/ops/parked?limit=1');
    const text = t.out.join('\n');
    expect(text).toMatch(/^PARKED\s+WORKFLOW\s+ACTION\s+REASON\s+TRIES\s+ERROR\n/);
    expect(text).toMatch(
      /2026-12-04 12:00:00Z\s+conversation:106540352242922:16505551234\s+recordMessage\s+conflict\s+1\s+message wamid\.A1/,
    );
    expect(text).toMatch(/more: --cursor NDI$/);

    const empty = io(() => json(200, { parked: [] }));
    expect(await run(['ops', 'parked', '--cursor', 'NDI'], empty.cli)).toBe(EXIT_OK);
    expect(empty.calls[0]!.url).toBe('http://127.0.0.1:3000/ops/parked?cursor=NDI');
    expect(empty.out.join('')).toBe('Nothing is parked.');
    expect(await run(['ops', 'parked', 'extra'], empty.cli)).toBe(EXIT_USAGE);
  });

  test('the quarantine: listed by classification, one shown as JSON, a selection replayed', async () => {
    const entry = {
      id: '42',
      receivedAt: '2026-12-04T12:00:00.000Z',
      classifications: ['no_workflow:onboarding:+15550000001'],
      deliveryId: '7',
    };
    const list = io(() => json(200, { entries: [entry], nextCursor: '42' }));
    expect(await run(['ops', 'quarantine', '--classification', 'no_workflow:', '--limit', '1'], list.cli)).toBe(EXIT_OK);
    expect(list.calls[0]!.url).toBe('http://127.0.0.1:3000/ops/quarantine?classification=no_workflow%3A&limit=1');
    expect(list.out.join('\n')).toMatch(/^42 +2026-12-04 12:00:00 +no_workflow:onboarding:\+15550000001$/m);
    expect(list.out.join('\n')).toMatch(/more: --cursor 42/);

    const show = io(() => json(200, { ...entry, body: { object: 'whatsapp_business_account' }, bytes: 36 }));
    expect(await run(['ops', 'quarantine', 'show', '42'], show.cli)).toBe(EXIT_OK);
    expect(show.calls[0]!.url).toBe('http://127.0.0.1:3000/ops/quarantine/42');
    expect(JSON.parse(show.out.join(''))).toMatchObject({ body: { object: 'whatsapp_business_account' } });

    const replay = io(() => json(200, { replayed: [{ id: '42', queued: 1 }], notReplayable: ['43'] }));
    expect(await run(['ops', 'quarantine', 'replay', '42', '43'], replay.cli)).toBe(EXIT_OK);
    expect(replay.calls[0]!.init.method).toBe('POST');
    expect(JSON.parse(String(replay.calls[0]!.init.body))).toEqual({ ids: ['42', '43'] });
    expect(replay.out.join('\n')).toBe(
      '42: replayed, 1 item queued\n43: not replayable (no such entry, or kept without its bytes)',
    );

    expect(await run(['ops', 'quarantine', 'show', 'abc'], io(() => json(200, {})).cli)).toBe(EXIT_USAGE);
    expect(await run(['ops', 'quarantine', 'replay'], io(() => json(200, {})).cli)).toBe(EXIT_USAGE);
    expect(await run(['ops', 'quarantine', '--limit', '0'], io(() => json(200, {})).cli)).toBe(EXIT_USAGE);
  });

  test('--json prints the answer as it came', async () => {
    const t = io(() => json(200, { onboardings: [], extra: 1 }));
    expect(await run(['ops', 'list', '--json'], t.cli)).toBe(EXIT_OK);
    expect(JSON.parse(t.out.join(''))).toEqual({ onboardings: [], extra: 1 });
  });

  test('an action posts JSON and prints the block', async () => {
    const t = io(() =>
      json(200, {
        ...listAnswer.onboardings[0],
        state: 'linking.awaitingScan',
        status: 'active',
        blocked: null,
        timeline: [],
        pendingTimers: [],
        activities: [],
      }),
    );
    expect(await run(['ops', 'retry', '+15550000001'], t.cli)).toBe(EXIT_OK);
    expect(t.calls[0]!.init.method).toBe('POST');
    expect(t.calls[0]!.init.body).toBe('{"action":"retry"}');
    expect(new Headers(t.calls[0]!.init.headers).get('content-type')).toBe('application/json');
    expect(t.out.join('\n')).toMatch(/retry: accepted for \+15550000001[\s\S]*state +linking\.awaitingScan/);
  });

  test('1 with the API code and message', async () => {
    const t = io(() =>
      json(409, { error: { code: 'event_refused', message: 'state prerequisites cannot take retry', hint: 'wait' } }),
    );
    expect(await run(['ops', 'retry', '+15550000001'], t.cli)).toBe(EXIT_API_ERROR);
    expect(t.err.join('\n')).toBe('error: event_refused: state prerequisites cannot take retry (HTTP 409)\n  hint: wait');
    expect(t.out).toEqual([]);
  });

  test('a refused action is followed by the repairs the state accepts, as the API reports them', async () => {
    const t = io((url) =>
      url.endsWith('/actions')
        ? json(409, { error: { code: 'event_refused', message: 'state linking.attempt cannot take retry' } })
        : json(200, {
            ...listAnswer.onboardings[0],
            state: 'linking.attempt',
            status: 'active',
            blocked: null,
            timeline: [],
            pendingTimers: [],
            activities: [],
            actions: [{ action: 'refreshLinking' }, { action: 'cancel' }],
          }),
    );
    expect(await run(['ops', 'retry', '+15550000001'], t.cli)).toBe(EXIT_API_ERROR);
    expect(t.err.join('\n')).toBe(
      'error: event_refused: state linking.attempt cannot take retry (HTTP 409)\n  the state accepts now: refresh-linking, cancel',
    );
    expect(t.calls.map((c) => c.url)).toEqual([
      expect.stringMatching(/\/ops\/onboardings\/%2B15550000001\/actions$/),
      expect.stringMatching(/\/ops\/onboardings\/%2B15550000001$/),
    ]);
  });

  test('1 when the API cannot be reached or answers something else', async () => {
    const down = io(() => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    });
    expect(await run(['ops', 'list'], down.cli)).toBe(EXIT_API_ERROR);
    expect(down.err.join('')).toBe('error: cannot reach the API at http://127.0.0.1:3000: ECONNREFUSED');

    const html = io(() => new Response('<html>bad gateway</html>', { status: 502 }));
    expect(await run(['ops', 'list'], html.cli)).toBe(EXIT_API_ERROR);
    expect(html.err.join('')).toMatch(/HTTP 502 with something that is not JSON: <html>bad gateway/);

    const shape = io(() => json(200, { rows: [] }));
    expect(await run(['ops', 'list'], shape.cli)).toBe(EXIT_API_ERROR);
    expect(shape.err.join('')).toMatch(/unexpected answer from GET .*: onboardings: /);
  });

  test('2 with the usage, and no request', async () => {
    const t = io(() => json(200, listAnswer));
    expect(await run(['ops', 'frobnicate'], t.cli)).toBe(EXIT_USAGE);
    expect(t.err.join('\n')).toMatch(/^error: unknown command: ops frobnicate\n\nUsage: coexist ops <command>/);
    expect(t.calls).toEqual([]);
    expect(await run(['--help'], t.cli)).toBe(EXIT_OK);
    expect(t.out.join('')).toMatch(/^Usage: coexist ops/);
  });
});
