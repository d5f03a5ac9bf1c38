/**
 * The onboarding machine, driven only by XState's pure `initialTransition` / `transition` — the
 * way the durable interpreter drives it — through the shared driver (scenarios/machine-driver.ts),
 * which keeps what the interpreter would keep: pending timers and running invocations.
 */
import type { EventObject, StateValue } from 'xstate';
import {
  DEFAULT_ONBOARDING_SETTINGS,
  isAppVersionSupported,
  onboardingMachine,
  stageOf,
  statusCardOf,
  type CheckPaymentMethodOutput,
  type FetchStatusCardOutput,
  type OnboardingEvent,
  type OnboardingFlow,
  type OnboardingSettings,
  type OnboardingSnapshot,
  type Stage,
} from '../../machines/onboarding';
import { SIGNUP_ERROR_REASONS } from '../../machines/meta-codes';
import { BLOCKED_REASONS, SENDING_BLOCKS, SYNC_FAILURES, type BlockedReason } from '../../machines/onboarding';
import { INTERPRETER_ACTIONS, MachineDriver, type Action } from '../../scenarios/machine-driver';

const PHONE = '+15550783881';
const T0 = 1_750_000_000_000;
const WABA = 'waba-1';
const PNID = 'pnid-1';
const CODE = 'es-code-123';
const SEALED = 'sealed:v1:abc';

interface Notice {
  kind: string;
  [key: string]: unknown;
}

const OUR_ACTIONS = ['notifyBackend', 'startLinkingAttempt'];

/** The shared pure driver, with what these tests read and check after every step. */
class Run {
  private readonly driver: MachineDriver<OnboardingSnapshot>;
  /** Actions of the last step. */
  actions: Action[] = [];
  /** Every action since the start. */
  all: Action[] = [];

  /** `legacy`: the flow of onboardings started before the signup session, kept for their replays. */
  constructor(settings?: Partial<OnboardingSettings>, flow: OnboardingFlow = 'legacy') {
    this.driver = new MachineDriver(onboardingMachine, { phoneNumber: PHONE, flow, ...(settings ? { settings } : {}) });
    this.record();
  }

  get snapshot(): OnboardingSnapshot {
    return this.driver.snapshot;
  }
  get timers() {
    return this.driver.timers;
  }
  get running() {
    return this.driver.invocations;
  }

  send(event: OnboardingEvent | EventObject): this {
    this.driver.send(event);
    expect(this.snapshot.status).not.toBe('error');
    return this.record();
  }

  can(event: OnboardingEvent): boolean {
    return this.driver.can(event);
  }

  done(id: string, output: unknown = {}): this {
    expect(this.running.has(id)).toBe(true);
    this.driver.done(id, output);
    return this.record();
  }

  fail(id: string, code?: number, message = 'Meta said no'): this {
    expect(this.running.has(id)).toBe(true);
    const error =
      code === undefined
        ? { message, nonRetryable: false }
        : { message, type: 'MetaApiError', nonRetryable: true, details: { code, httpStatus: 400 } };
    this.driver.fail(id, error);
    return this.record();
  }

  /** Delivers the pending timer whose id contains `name` (e.g. 'linkingAttemptTtl'). */
  fire(name: string): this {
    const matches = [...this.timers.keys()].filter((id) => id.includes(name));
    expect(matches).toHaveLength(1);
    this.driver.fire(matches[0]!);
    return this.record();
  }

  timerDelay(name: string): number | undefined {
    return [...this.timers.entries()].find(([id]) => id.includes(name))?.[1].delay;
  }

  get stage(): Stage {
    return stageOf(this.snapshot);
  }
  get context() {
    return this.snapshot.context;
  }
  matches(value: StateValue): boolean {
    return this.snapshot.matches(value as never);
  }

  /** notifyBackend params of the last step (or of the whole run). */
  notices(kind?: string, from: Action[] = this.actions): Notice[] {
    return from
      .filter((a) => a.type === 'notifyBackend')
      .map((a) => a.params as Notice)
      .filter((n) => kind === undefined || n.kind === kind);
  }

  spawned(src?: string, from: Action[] = this.actions): { id: string; src: string; input: unknown }[] {
    return from
      .filter((a) => a.type === 'xstate.spawnChild')
      .map((a) => a.params as { id: string; src: string; input: unknown })
      .filter((p) => src === undefined || p.src === src)
      .map(({ id, src: s, input }) => ({ id, src: s, input }));
  }

  /** What the interpreter needs of every step: known actions, serialisable params, inputs and context. */
  private record(): this {
    const { actions, effects, started } = this.driver.last;
    for (const { type } of actions) expect([...OUR_ACTIONS, ...INTERPRETER_ACTIONS]).toContain(type);
    for (const { params } of effects) expect(JSON.parse(JSON.stringify(params))).toEqual(params);
    for (const { input } of started) expect(JSON.parse(JSON.stringify(input))).toEqual(input);
    expect(JSON.parse(JSON.stringify(this.snapshot.context))).toEqual(this.snapshot.context);
    this.actions = actions;
    this.all.push(...actions);
    return this;
  }
}

// --- drivers --------------------------------------------------------------------------------------

const passingReport = {
  type: 'prerequisites.report',
  appVersion: '2.24.17',
  hasBusinessPortfolio: true,
  connectedElsewhere: false,
  hasPaymentMethod: true,
} as const;

function toSignup(settings?: Partial<OnboardingSettings>): Run {
  return new Run(settings).send(passingReport);
}

function toLinking(settings?: Partial<OnboardingSettings>): Run {
  return toSignup(settings)
    .send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 })
    .done('exchangeSignupCode', { sealedToken: SEALED })
    .done('lookupPhoneNumber', {
      phoneNumberId: PNID,
      displayPhoneNumber: '+1 555-078-3881',
      isOnBizApp: true,
      platformType: 'CLOUD_API',
    });
}

function toRegistration(settings?: Partial<OnboardingSettings>): Run {
  return toLinking(settings).send({ type: 'linking.confirmed', method: 'qr', at: T0 + 30_000 });
}

const confirmed = { isOnBizApp: true, platformType: 'CLOUD_API', status: 'CONNECTED' };

function toSync(settings?: Partial<OnboardingSettings>): Run {
  return toRegistration(settings).done('subscribeApp', undefined).done('checkRegistration', confirmed);
}

function toPayment(settings?: Partial<OnboardingSettings>): Run {
  return toSync(settings)
    .done('requestContactsSync', { requestId: 'req-contacts' })
    .done('requestHistorySync', { requestId: 'req-history' });
}

const paymentOk: CheckPaymentMethodOutput = { canSendMessage: 'AVAILABLE', paymentMissing: false, errorCodes: [] };
const paymentMissing: CheckPaymentMethodOutput = { canSendMessage: 'BLOCKED', paymentMissing: true, errorCodes: [141006] };
const card: FetchStatusCardOutput = {
  displayName: "Jasper's Market",
  nameStatus: 'APPROVED',
  qualityRating: 'GREEN',
  messagingLimitTier: 'TIER_1K',
  throughput: 'STANDARD',
  status: 'CONNECTED',
  canSendMessage: 'AVAILABLE',
  isOnBizApp: true,
  platformType: 'CLOUD_API',
};

function toActive(settings?: Partial<OnboardingSettings>): Run {
  return toPayment(settings).done('checkPaymentMethod', paymentOk).done('fetchStatusCard', card);
}

// --- tests ----------------------------------------------------------------------------------------

describe('happy path', () => {
  it('goes prerequisites → signup → linking → registration → sync → payment → active', () => {
    const run = new Run();
    expect(run.stage).toBe('prerequisites');
    expect(run.snapshot.hasTag('prerequisites')).toBe(true);
    expect(run.context.settings).toEqual(DEFAULT_ONBOARDING_SETTINGS);

    run.send(passingReport);
    expect(run.matches({ signup: 'awaitingResult' })).toBe(true);
    expect(run.context.warnings).toEqual([]);

    run.send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 });
    expect(run.spawned()).toEqual([{ id: 'exchangeSignupCode', src: 'exchangeSignupCode', input: { code: CODE } }]);

    run.done('exchangeSignupCode', { sealedToken: SEALED });
    expect(run.context.sealedToken).toBe(SEALED);
    expect(run.spawned()).toEqual([
      { id: 'lookupPhoneNumber', src: 'lookupPhoneNumber', input: { wabaId: WABA, phoneNumber: PHONE, sealedToken: SEALED } },
    ]);

    run.done('lookupPhoneNumber', { phoneNumberId: PNID, displayPhoneNumber: '+1 555-078-3881', isOnBizApp: true });
    expect(run.matches({ linking: 'attempt' })).toBe(true);
    expect(run.actions.find((a) => a.type === 'startLinkingAttempt')?.params).toEqual({
      phoneNumber: PHONE,
      attempt: 1,
      maxAttempts: 5,
      method: 'qr',
      expiresInMs: 120_000,
    });
    expect(run.timerDelay('linkingAttemptTtl')).toBe(120_000);

    run.send({ type: 'linking.confirmed', method: 'qr', at: T0 + 40_000 });
    expect(run.matches({ registration: 'subscribingApp' })).toBe(true);
    expect(run.timers.size).toBe(0); // the attempt's timer is cancelled
    expect(run.context.linkedAt).toBe(T0 + 40_000);
    expect(run.spawned()).toEqual([{ id: 'subscribeApp', src: 'subscribeApp', input: { wabaId: WABA, sealedToken: SEALED } }]);

    run.done('subscribeApp', undefined);
    expect(run.matches({ registration: { confirming: 'checking' } })).toBe(true);
    expect(run.spawned()).toEqual([
      { id: 'checkRegistration', src: 'checkRegistration', input: { phoneNumberId: PNID, sealedToken: SEALED } },
    ]);

    run.done('checkRegistration', confirmed);
    expect(run.stage).toBe('sync');
    expect(run.context.registration.confirmedBy).toBe('check');
    expect(run.spawned()).toEqual([
      {
        id: 'requestContactsSync',
        src: 'requestSync',
        input: { phoneNumberId: PNID, syncType: 'smb_app_state_sync', sealedToken: SEALED },
      },
    ]);
    expect(run.context.contactsSync.status).toBe('requesting');

    run.done('requestContactsSync', { requestId: 'req-contacts' });
    expect(run.spawned()).toEqual([
      { id: 'requestHistorySync', src: 'requestSync', input: { phoneNumberId: PNID, syncType: 'history', sealedToken: SEALED } },
    ]);

    run.done('requestHistorySync', { requestId: 'req-history' });
    expect(run.stage).toBe('payment');
    expect(run.context.contactsSync).toEqual({ status: 'requested', requestId: 'req-contacts' });
    expect(run.context.historySync).toEqual({ status: 'requested', requestId: 'req-history' });
    expect(run.context.history.status).toBe('awaiting');
    expect(run.spawned()).toEqual([
      {
        id: 'checkPaymentMethod',
        src: 'checkPaymentMethod',
        input: { phoneNumberId: PNID, wabaId: WABA, sealedToken: SEALED },
      },
    ]);

    run.done('checkPaymentMethod', paymentOk);
    expect(run.stage).toBe('active');
    expect(run.notices('active')).toEqual([
      { kind: 'active', phoneNumber: PHONE, wabaId: WABA, phoneNumberId: PNID, displayPhoneNumber: '+1 555-078-3881' },
    ]);
    expect(run.spawned('fetchStatusCard')).toHaveLength(1);

    run.done('fetchStatusCard', card);
    expect(run.matches({ active: { statusCard: 'idle', history: 'awaitingFirstChunk' } })).toBe(true);
    expect(run.context.sendingState).toEqual({ canSend: true });
    expect(statusCardOf(run.context)).toEqual({
      displayName: "Jasper's Market",
      nameStatus: 'APPROVED',
      qualityRating: 'GREEN',
      messagingLimitTier: 'TIER_2K',
      throughput: { level: 'STANDARD', messagesPerSecond: 20 },
      sendingState: { canSend: true },
    });
  });

  it('never puts the authorization code in context, only the sealed token', () => {
    const run = toActive();
    const json = JSON.stringify(run.context);
    expect(json).not.toContain(CODE);
    expect(run.context.sealedToken).toBe(SEALED);
  });

  it('tags every top-level state with its stage', () => {
    const run = toActive();
    expect(run.snapshot.hasTag('active')).toBe(true);
    expect(run.snapshot.hasTag('payment')).toBe(false);
    expect(stageOf({ value: 'blocked' })).toBe('blocked');
    expect(stageOf({ value: { registration: { confirming: 'checking' } } })).toBe('registration');
  });
});

describe('prerequisites', () => {
  it.each([
    ['2.24.17', true],
    ['2.24.18', true],
    ['2.25.1', true],
    ['3.0', true],
    ['2.24.17.78', true],
    ['2.24.9', false],
    ['2.23.99', false],
    ['2.24', false],
    ['', false],
    ['v2.25.1', false],
  ])('app version %s supported: %s', (version, supported) => {
    expect(isAppVersionSupported(version)).toBe(supported);
  });

  it('app too old blocks with the update-and-restart remedy', () => {
    const run = new Run().send({ ...passingReport, appVersion: '2.24.9' });
    expect(run.stage).toBe('blocked');
    expect(run.context.blocked).toEqual({
      reason: 'app_too_old',
      remedy: BLOCKED_REASONS.app_too_old.remedy,
      stage: 'prerequisites',
    });
    expect(run.context.blocked?.remedy).toMatch(/update the app.*restart/i);
    expect(run.notices('blocked')).toEqual([
      {
        kind: 'blocked',
        phoneNumber: PHONE,
        stage: 'prerequisites',
        reason: 'app_too_old',
        remedy: BLOCKED_REASONS.app_too_old.remedy,
      },
    ]);
  });

  it('connected elsewhere blocks with disconnect, wait and where to check', () => {
    const run = new Run().send({ ...passingReport, connectedElsewhere: true });
    expect(run.context.blocked?.reason).toBe('connected_elsewhere');
    expect(run.context.blocked?.remedy).toMatch(/disconnect/i);
    expect(run.context.blocked?.remedy).toMatch(/15 minutes/);
    expect(run.context.blocked?.remedy).toMatch(/Business Manager in the WhatsApp Accounts tab/);
  });

  it('no business portfolio blocks', () => {
    const run = new Run().send({ ...passingReport, hasBusinessPortfolio: false });
    expect(run.context.blocked?.reason).toBe('no_business_portfolio');
  });

  it('a missing payment method is a warning, not a block', () => {
    const run = new Run().send({ ...passingReport, hasPaymentMethod: false });
    expect(run.stage).toBe('signup');
    expect(run.context.warnings).toEqual([{ code: 'payment_method_missing', message: expect.stringMatching(/payment method/) }]);
  });

  it('after fixing, retry waits for a new report, which passes', () => {
    const run = new Run().send({ ...passingReport, appVersion: '2.23.0' }).send({ type: 'retry', by: 'ops' });
    expect(run.stage).toBe('prerequisites');
    expect(run.context.blocked).toBeUndefined();
    run.send(passingReport);
    expect(run.stage).toBe('signup');
  });
});

describe('signup', () => {
  it.each(Object.entries(SIGNUP_ERROR_REASONS))('Embedded Signup error %s blocks as %s', (code, reason) => {
    const run = toSignup().send({ type: 'signup.cancelled', errorCode: code, errorMessage: 'shown text', at: T0 });
    expect(run.context.blocked).toEqual({
      reason,
      remedy: BLOCKED_REASONS[reason].remedy,
      stage: 'signup',
      code: Number(code),
      detail: 'shown text',
    });
  });

  it('3441049: connected elsewhere, with the 15-minute wait, then retry runs signup again', () => {
    const run = toSignup().send({ type: 'signup.cancelled', errorCode: 3441049, at: T0 });
    expect(run.context.blocked).toMatchObject({ reason: 'connected_elsewhere', code: 3441049, stage: 'signup' });
    expect(run.context.blocked?.remedy).toMatch(/wait 15 minutes/);
    run.send({ type: 'retry' });
    expect(run.matches({ signup: 'awaitingResult' })).toBe(true);
  });

  it('4563015: app too old', () => {
    const run = toSignup().send({ type: 'signup.cancelled', errorCode: '4563015', at: T0 });
    expect(run.context.blocked).toMatchObject({ reason: 'app_too_old', code: 4563015 });
  });

  it('an unknown code keeps the generic signup_error with the code', () => {
    const run = toSignup().send({ type: 'signup.cancelled', errorCode: '999', at: T0 });
    expect(run.context.blocked).toMatchObject({ reason: 'signup_error', code: 999 });
  });

  it('a cancel without an error code is abandonment, retryable', () => {
    const run = toSignup().send({ type: 'signup.cancelled', currentStep: 'PHONE_NUMBER_VERIFICATION', at: T0 });
    expect(run.context.blocked).toMatchObject({ reason: 'signup_abandoned', detail: 'PHONE_NUMBER_VERIFICATION' });
    expect(run.context.blocked?.remedy).toMatch(/start signup again/i);
    expect(run.can({ type: 'retry' })).toBe(true);
  });

  it.each([[100], [190], [undefined]])('code exchanged too late (%s) blocks signup_code_expired', (code) => {
    const run = toSignup().send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 }).fail('exchangeSignupCode', code);
    expect(run.stage).toBe('blocked');
    expect(run.context.blocked).toMatchObject({ reason: 'signup_code_expired', stage: 'signup' });
    expect(run.context.blocked?.code).toBe(code);
    expect(run.context.blocked?.remedy).toMatch(/start signup again/i);
    expect(run.context.sealedToken).toBeUndefined();
    run.send({ type: 'retry' });
    expect(run.matches({ signup: 'awaitingResult' })).toBe(true);
  });

  it('a number not on the business app blocks', () => {
    const run = toSignup()
      .send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 })
      .done('exchangeSignupCode', { sealedToken: SEALED })
      .done('lookupPhoneNumber', { phoneNumberId: PNID, displayPhoneNumber: '+1', isOnBizApp: false });
    expect(run.context.blocked?.reason).toBe('not_on_business_app');
  });

  it('passes the Embedded Signup phone number id to the lookup, which still decides', () => {
    const run = toSignup()
      .send({ type: 'signup.finished', wabaId: WABA, code: CODE, phoneNumberId: 'from-es', at: T0 })
      .done('exchangeSignupCode', { sealedToken: SEALED });
    expect(run.spawned()[0]?.input).toEqual({ wabaId: WABA, phoneNumber: PHONE, sealedToken: SEALED, phoneNumberId: 'from-es' });
    run.done('lookupPhoneNumber', { phoneNumberId: PNID, displayPhoneNumber: '+1', isOnBizApp: true });
    expect(run.context.phoneNumberId).toBe(PNID);
  });

  it('a refused token on lookup needs a new signup: retry goes to signup', () => {
    const run = toSignup()
      .send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 })
      .done('exchangeSignupCode', { sealedToken: SEALED })
      .fail('lookupPhoneNumber', 190);
    expect(run.context.blocked).toMatchObject({ reason: 'reauthorization_required', code: 190, stage: 'signup' });
    run.send({ type: 'retry' });
    expect(run.stage).toBe('signup');
    expect(run.context.sealedToken).toBeUndefined();
  });
});

describe('linking', () => {
  it('QR lapses twice, the workflow starts fresh attempts by itself, then the scan confirms', () => {
    const run = toLinking();
    run.fire('linkingAttemptTtl');
    expect(run.matches({ linking: 'attempt' })).toBe(true);
    expect(run.context.linkingAttempts).toBe(2);
    expect(run.notices('linkingLapsed')).toEqual([
      {
        kind: 'linkingLapsed',
        phoneNumber: PHONE,
        lapsedAttempt: 1,
        nextAttempt: 2,
        maxAttempts: 5,
        method: 'qr',
        remedy: expect.stringMatching(
          /refresh the code on Meta's connection screen, and scan the new code from the app immediately/,
        ),
      },
    ]);
    expect(run.actions.find((a) => a.type === 'startLinkingAttempt')?.params).toMatchObject({ attempt: 2 });
    // notify before starting the next attempt
    expect(run.actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => a.type)).toEqual([
      'notifyBackend',
      'startLinkingAttempt',
    ]);

    run.fire('linkingAttemptTtl');
    expect(run.context.linkingAttempts).toBe(3);
    expect(run.actions.find((a) => a.type === 'startLinkingAttempt')?.params).toMatchObject({ attempt: 3 });

    run.send({ type: 'linking.confirmed', method: 'qr', at: T0 + 300_000 });
    expect(run.stage).toBe('registration');
    expect(run.timers.size).toBe(0);
  });

  it('QR never scanned: after 5 attempts lapse, blocked qr_not_scanned; retry starts over', () => {
    const run = toLinking();
    for (let lapse = 1; lapse <= 4; lapse++) run.fire('linkingAttemptTtl');
    expect(run.context.linkingAttempts).toBe(5);
    expect(run.notices('linkingLapsed', run.all)).toHaveLength(4);
    run.fire('linkingAttemptTtl');
    expect(run.stage).toBe('blocked');
    expect(run.context.blocked).toMatchObject({ reason: 'qr_not_scanned', stage: 'linking' });
    expect(run.context.blocked?.remedy).toMatch(/Linked devices/);
    expect(run.notices('blocked')).toHaveLength(1);
    expect(run.actions.filter((a) => a.type === 'startLinkingAttempt')).toHaveLength(0);

    run.send({ type: 'retry', by: 'ops' });
    expect(run.matches({ linking: 'attempt' })).toBe(true);
    expect(run.context.linkingAttempts).toBe(1);
  });

  it('linking.refresh starts a new attempt now, counts it, may switch to a verification code', () => {
    const run = toLinking({ maxLinkingAttempts: 2 });
    run.send({ type: 'linking.refresh', method: 'code', by: 'user' });
    expect(run.context.linkingAttempts).toBe(2);
    expect(run.actions.find((a) => a.type === 'startLinkingAttempt')?.params).toMatchObject({ attempt: 2, method: 'code' });
    expect(run.timers.size).toBe(1);
    expect(run.can({ type: 'linking.refresh' })).toBe(false);
    run.send({ type: 'linking.confirmed', method: 'code', at: T0 });
    expect(run.context.linkingMethod).toBe('code');
  });

  it('uses the configured attempt lifetime', () => {
    const run = toLinking({ linkingAttemptTtlMs: 90_000 });
    expect(run.timerDelay('linkingAttemptTtl')).toBe(90_000);
  });
});

describe('registration', () => {
  it('polls until Meta shows the number on the Cloud API and still on the app', () => {
    const run = toRegistration().done('subscribeApp', undefined);
    run.done('checkRegistration', { isOnBizApp: true, platformType: 'NOT_APPLICABLE' });
    expect(run.matches({ registration: { confirming: 'waitingToRecheck' } })).toBe(true);
    expect(run.timerDelay('registrationPollInterval')).toBe(15_000);
    run.fire('registrationPollInterval');
    // a failed read is one more poll
    run.fail('checkRegistration', 2);
    expect(run.matches({ registration: { confirming: 'waitingToRecheck' } })).toBe(true);
    run.fire('registrationPollInterval').done('checkRegistration', confirmed);
    expect(run.stage).toBe('sync');
    expect(run.context.registration.checks).toBe(3);
    expect(run.timerDelay('registrationDeadline')).toBeUndefined();
  });

  it('a webhook confirmation moves on without waiting for the poll', () => {
    const run = toRegistration()
      .done('subscribeApp', undefined)
      .done('checkRegistration', { isOnBizApp: true, platformType: 'NOT_APPLICABLE' });
    expect(run.can({ type: 'registration.confirmed', isOnBizApp: false })).toBe(false);
    run.send({ type: 'registration.confirmed', isOnBizApp: true, platformType: 'CLOUD_API', at: T0 });
    expect(run.stage).toBe('sync');
    expect(run.context.registration.confirmedBy).toBe('webhook');
  });

  it('past the deadline it is stuck with a reason, never waiting silently; a late webhook still moves it on', () => {
    const run = toRegistration().done('subscribeApp', undefined);
    expect(run.timerDelay('registrationDeadline')).toBe(600_000);
    run.fire('registrationDeadline');
    expect(run.matches({ registration: 'stuck' })).toBe(true);
    expect(run.running.size).toBe(0);
    expect(run.timers.size).toBe(0);
    expect(run.context.blocked).toMatchObject({ reason: 'registration_not_confirmed', stage: 'registration' });
    expect(run.notices('blocked')).toEqual([expect.objectContaining({ reason: 'registration_not_confirmed' })]);
    run.send({ type: 'registration.confirmed', at: T0 });
    expect(run.stage).toBe('sync');
    expect(run.context.blocked).toBeUndefined();
  });

  it('retry while stuck polls again with a new deadline', () => {
    const run = toRegistration().done('subscribeApp', undefined).fire('registrationDeadline');
    run.send({ type: 'retry', by: 'ops' });
    expect(run.matches({ registration: { confirming: 'checking' } })).toBe(true);
    expect(run.spawned('checkRegistration')).toHaveLength(1);
    expect(run.timerDelay('registrationDeadline')).toBe(600_000);
    expect(run.context.blocked).toBeUndefined();
  });

  it('a failed app subscription blocks; retry subscribes again', () => {
    const run = toRegistration().fail('subscribeApp', 1);
    expect(run.context.blocked).toMatchObject({ reason: 'meta_api_error', stage: 'registration', code: 1 });
    run.send({ type: 'retry' });
    expect(run.matches({ registration: 'subscribingApp' })).toBe(true);
  });

  it('a refused token while confirming needs a new signup', () => {
    const run = toRegistration().done('subscribeApp', undefined).fail('checkRegistration', 190);
    expect(run.context.blocked).toMatchObject({ reason: 'reauthorization_required', stage: 'registration' });
    run.send({ type: 'retry' });
    expect(run.stage).toBe('signup');
  });
});

describe('sync', () => {
  it('records a failed request with Meta code, never retries it, and still moves on', () => {
    const run = toSync().fail('requestContactsSync', 2593107, 'already used');
    expect(run.context.contactsSync).toEqual({
      status: 'failed',
      failure: {
        reason: 'sync_already_used',
        code: 2593107,
        message: 'already used',
        remedy: SYNC_FAILURES.sync_already_used.remedy,
      },
    });
    expect(run.notices('syncFailed')).toEqual([
      {
        kind: 'syncFailed',
        phoneNumber: PHONE,
        syncType: 'smb_app_state_sync',
        reason: 'sync_already_used',
        code: 2593107,
        remedy: SYNC_FAILURES.sync_already_used.remedy,
      },
    ]);
    expect(run.spawned()).toEqual([expect.objectContaining({ id: 'requestHistorySync' })]);

    run.fail('requestHistorySync', 2593108);
    expect(run.context.historySync.failure).toMatchObject({ reason: 'sync_window_passed', code: 2593108 });
    expect(run.context.history.status).toBe('not_requested');
    expect(run.stage).toBe('payment');

    run.done('checkPaymentMethod', paymentOk).done('fetchStatusCard', card);
    expect(run.matches({ active: { history: 'idle' } })).toBe(true);
    expect(run.spawned('requestSync', run.all)).toHaveLength(2);
  });

  it('a request that timed out counts as maybe sent: failed, not retried', () => {
    const run = toSync().done('requestContactsSync', { requestId: 'r1' }).fail('requestHistorySync', undefined, 'timeout');
    expect(run.context.historySync.failure).toMatchObject({ reason: 'sync_request_failed', message: 'timeout' });
    expect(run.stage).toBe('payment');
  });

  it('each sync type is requested exactly once over a whole life, whatever happens after', () => {
    const run = toActive();
    run.send({ type: 'account.update', event: 'ACCOUNT_OFFBOARDED', eventTime: 100 });
    run.send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 200 });
    run.done('fetchStatusCard', card);
    run.send({ type: 'send.refused', code: 131042, at: T0 }).send({ type: 'payment.added', at: T0 });
    run.done('checkPaymentMethod', paymentOk);
    expect(run.stage).toBe('active');
    expect(run.spawned('requestSync', run.all).map((s) => (s.input as { syncType: string }).syncType)).toEqual([
      'smb_app_state_sync',
      'history',
    ]);
  });

  it('a disconnection during sync takes effect once the requests are settled', () => {
    const run = toSync().send({ type: 'account.update', event: 'PARTNER_REMOVED', reason: 'USER_RE_REGISTERED', eventTime: 50 });
    expect(run.stage).toBe('sync');
    run.done('requestContactsSync', { requestId: 'r1' }).done('requestHistorySync', { requestId: 'r2' });
    expect(run.stage).toBe('offboarded');
  });
});

describe('history', () => {
  it('declined (2593109) is recorded distinctly and stops the silence timer', () => {
    const run = toPayment();
    expect(run.timerDelay('historySilence')).toBe(24 * 60 * 60_000);
    run.send({ type: 'history.declined', at: T0 });
    expect(run.context.history.status).toBe('declined');
    expect(run.notices('historyOutcome')).toEqual([
      { kind: 'historyOutcome', phoneNumber: PHONE, outcome: 'declined', message: expect.stringMatching(/History not shared/) },
    ]);
    expect(run.timerDelay('historySilence')).toBeUndefined();
    expect(run.can({ type: 'history.declined', at: T0 })).toBe(false);
  });

  it('never arrived: silence for historySilenceMs → not_received, distinct from declined', () => {
    const run = toActive({ historySilenceMs: 1_000 });
    run.fire('historySilence');
    expect(run.context.history.status).toBe('not_received');
    expect(run.notices('historyOutcome')).toEqual([expect.objectContaining({ outcome: 'not_received' })]);
    expect(run.stage).toBe('active');
  });

  it('chunks in payment and active are recorded; progress 100 completes it; a late chunk never moves the position back', () => {
    const run = toPayment();
    run.send({ type: 'history.progress', progress: 40, phase: 0, chunkOrder: 2, at: T0 });
    expect(run.matches({ payment: { history: 'receiving' } })).toBe(true);
    expect(run.timerDelay('historyStall')).toBe(2 * 60 * 60_000);
    run.send({ type: 'history.progress', progress: 20, phase: 0, chunkOrder: 1, at: T0 + 1 });
    expect(run.context.history).toMatchObject({ status: 'receiving', progress: 40, chunks: 2, phase: 0, chunkOrder: 2 });

    run.done('checkPaymentMethod', paymentOk);
    expect(run.matches({ active: { history: 'receiving' } })).toBe(true);
    run.send({ type: 'history.progress', progress: 100, phase: 2, chunkOrder: 9, at: T0 + 2 });
    expect(run.context.history).toMatchObject({ status: 'complete', progress: 100, chunks: 3 });
    expect(run.notices('historyOutcome')).toEqual([expect.objectContaining({ outcome: 'complete' })]);
    expect(run.timers.size).toBe(0);
    // late chunks (e.g. media for the last 14 days) are still recorded
    run.send({ type: 'history.progress', progress: 100, phase: 0, chunkOrder: 10, at: T0 + 3 });
    expect(run.context.history).toMatchObject({ status: 'complete', chunks: 4, phase: 2, chunkOrder: 9 });
  });

  it('stalled after some chunks → incomplete; a late chunk revives it', () => {
    const run = toActive({ historyStallMs: 5_000 });
    run.send({ type: 'history.progress', progress: 30, phase: 1, chunkOrder: 1, at: T0 });
    run.fire('historyStall');
    expect(run.context.history.status).toBe('incomplete');
    expect(run.notices('historyOutcome')).toEqual([expect.objectContaining({ outcome: 'incomplete' })]);
    run.send({ type: 'history.progress', progress: 60, phase: 1, chunkOrder: 2, at: T0 + 10_000 });
    expect(run.context.history.status).toBe('receiving');
    expect(run.timerDelay('historyStall')).toBe(5_000);
  });

  it('history events before the sync stage are refused', () => {
    const run = toLinking();
    expect(run.can({ type: 'history.progress', progress: 10, phase: 0, chunkOrder: 1, at: T0 })).toBe(false);
  });
});

describe('payment', () => {
  it('missing payment blocks sending with "add payment details" until payment.added and a passing re-check', () => {
    const run = toPayment().done('checkPaymentMethod', paymentMissing);
    expect(run.matches({ payment: { paymentMethod: 'awaitingPaymentMethod' } })).toBe(true);
    expect(run.context.sendingState).toEqual({
      canSend: false,
      reason: 'payment_missing',
      remedy: SENDING_BLOCKS.payment_missing.remedy,
    });
    expect(run.context.sendingState.remedy).toMatch(/Add payment details/);
    expect(run.notices('paymentRequired')).toHaveLength(1);

    // the periodic re-check still finds none, and does not notify again
    expect(run.timerDelay('paymentRecheck')).toBe(60 * 60_000);
    run.fire('paymentRecheck').done('checkPaymentMethod', paymentMissing);
    expect(run.notices('paymentRequired')).toHaveLength(0);

    run.send({ type: 'payment.added', at: T0 });
    expect(run.context.payment.addedAt).toBe(T0);
    expect(run.spawned('checkPaymentMethod')).toHaveLength(1);
    run.done('checkPaymentMethod', paymentOk);
    expect(run.stage).toBe('active');
    run.done('fetchStatusCard', card);
    expect(run.context.sendingState).toEqual({ canSend: true });
  });

  it('payment.added during a check restarts it', () => {
    const run = toPayment().send({ type: 'payment.added', at: T0 });
    expect(run.actions.map((a) => a.type)).toEqual(expect.arrayContaining(['xstate.stopChild', 'xstate.spawnChild']));
    expect(run.running.size).toBe(1);
  });

  it('131042 while active → back to payment-blocked sending; only payment.added clears it', () => {
    const run = toActive().send({ type: 'send.refused', code: 131042, at: T0 });
    expect(run.stage).toBe('payment');
    expect(run.context.sendingState.reason).toBe('payment_missing');
    expect(run.context.unresolvedSendErrors).toEqual([131042]);
    expect(run.notices('paymentRequired')).toHaveLength(1);
    // health may lag: a clean read does not outweigh the refusal
    run.done('checkPaymentMethod', paymentOk);
    expect(run.matches({ payment: { paymentMethod: 'awaitingPaymentMethod' } })).toBe(true);
    run.send({ type: 'payment.added', at: T0 + 1 }).done('checkPaymentMethod', paymentOk);
    expect(run.stage).toBe('active');
    expect(run.context.unresolvedSendErrors).toEqual([]);
  });

  it('a check that fails waits for the next re-check', () => {
    const run = toPayment().fail('checkPaymentMethod', 2);
    expect(run.matches({ payment: { paymentMethod: 'awaitingPaymentMethod' } })).toBe(true);
    expect(run.context.payment.lastError).toBe('Meta said no');
  });
});

describe('active', () => {
  it('368 blocks sending with its remedy and re-reads the card; an on-demand refresh lets health decide', () => {
    const run = toActive().send({ type: 'send.refused', code: 368, at: T0 });
    expect(run.stage).toBe('active');
    expect(run.context.sendingState).toEqual({
      canSend: false,
      reason: 'policy_restricted',
      remedy: SENDING_BLOCKS.policy_restricted.remedy,
    });
    expect(run.spawned('fetchStatusCard')).toHaveLength(1);
    run.done('fetchStatusCard', card);
    expect(run.context.sendingState.reason).toBe('policy_restricted');

    run.send({ type: 'statusCard.refresh', by: 'user' });
    expect(run.context.unresolvedSendErrors).toEqual([]);
    run.done('fetchStatusCard', { ...card, canSendMessage: 'BLOCKED' });
    expect(run.context.sendingState.reason).toBe('health_blocked');
    expect(run.context.sendingState.remedy).toMatch(/poor quality or a missing approved Display Name/);
  });

  it('other send errors are not sending blocks', () => {
    expect(toActive().can({ type: 'send.refused', code: 130429, at: T0 })).toBe(false);
  });

  it('sending is not active unless connected, on the Cloud API and still on the app', () => {
    const run = toActive()
      .send({ type: 'statusCard.refresh' })
      .done('fetchStatusCard', { ...card, status: 'FLAGGED' });
    expect(run.context.sendingState.reason).toBe('number_not_connected');
    run.send({ type: 'statusCard.refresh' }).done('fetchStatusCard', { ...card, isOnBizApp: false });
    expect(run.context.sendingState.reason).toBe('coexistence_inactive');
  });

  it('quality and name webhooks update the card and re-read it', () => {
    const run = toActive();
    run.send({ type: 'account.qualityUpdate', event: 'ONBOARDING', messagingLimitTier: 'TIER_10K', eventTime: 10 });
    expect(run.context.statusCard.messagingLimitTier).toBe('TIER_10K');
    expect(run.spawned('fetchStatusCard')).toHaveLength(1);
    run.send({ type: 'account.nameUpdate', decision: 'APPROVED', requestedVerifiedName: 'Jasper Market', eventTime: 11 });
    expect(run.context.statusCard).toMatchObject({
      displayName: 'Jasper Market',
      nameStatus: 'APPROVED',
      nameDecision: 'APPROVED',
    });
    expect(run.running.size).toBe(1); // the earlier read was cancelled, a new one runs
  });

  it('a failed card read keeps the last card and records the error', () => {
    const run = toActive().send({ type: 'statusCard.refresh' }).fail('fetchStatusCard', 4);
    expect(run.context.statusCard).toMatchObject({ displayName: "Jasper's Market", lastError: 'Meta said no' });
    expect(run.context.sendingState).toEqual({ canSend: true });
  });
});

describe('offboarding', () => {
  it('PARTNER_REMOVED (PRIMARY_INACTIVITY) → offboarded, notified with the reason; ACCOUNT_RECONNECTED → active', () => {
    const run = toActive().send({
      type: 'account.update',
      event: 'PARTNER_REMOVED',
      reason: 'PRIMARY_INACTIVITY',
      initiatedBy: 'SYSTEM',
      eventTime: 1_000,
    });
    expect(run.stage).toBe('offboarded');
    expect(run.context.sendingState.reason).toBe('offboarded');
    expect(run.context.lastLifecycleEventTime).toBe(1_000);
    expect(run.notices('offboarded')).toEqual([
      {
        kind: 'offboarded',
        phoneNumber: PHONE,
        event: 'PARTNER_REMOVED',
        reason: 'PRIMARY_INACTIVITY',
        initiatedBy: 'SYSTEM',
        remedy: expect.stringMatching(/14 days/),
      },
    ]);
    // history keeps being followed while offboarded
    expect(run.matches({ offboarded: { history: 'awaitingFirstChunk' } })).toBe(true);

    run.send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 2_000 });
    expect(run.stage).toBe('active');
    expect(run.context.offboarding).toBeUndefined();
    expect(run.notices('active')).toHaveLength(1);
    run.done('fetchStatusCard', card);
    expect(run.context.sendingState).toEqual({ canSend: true });
  });

  it('duplicated and late lifecycle events change nothing', () => {
    const removed = { type: 'account.update', event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY', eventTime: 1_000 } as const;
    const reconnected = { type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 2_000 } as const;
    const run = toActive().send(removed).send(reconnected).done('fetchStatusCard', card);
    const before = run.snapshot;
    expect(run.can(removed)).toBe(false); // duplicate
    expect(run.can({ ...removed, eventTime: 1_500 })).toBe(false); // late
    expect(run.can({ ...reconnected })).toBe(false); // duplicate
    run
      .send(removed)
      .send(reconnected)
      .send({ ...removed, eventTime: 1_999 });
    expect(run.snapshot.value).toEqual(before.value);
    expect(run.snapshot.context).toEqual(before.context);
    expect(run.actions).toEqual([]);
  });

  it('a reconnection that arrives before the older removal keeps the number active', () => {
    const run = toActive().send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 2_000 });
    expect(run.stage).toBe('active');
    expect(run.can({ type: 'account.update', event: 'PARTNER_REMOVED', eventTime: 1_000 })).toBe(false);
  });

  it('ACCOUNT_OFFBOARDED reconnects by itself: retry (a new signup) is refused', () => {
    const run = toActive().send({ type: 'account.update', event: 'ACCOUNT_OFFBOARDED', eventTime: 10 });
    expect(run.stage).toBe('offboarded');
    expect(run.notices('offboarded')[0]?.remedy).toMatch(/reconnects by itself/);
    expect(run.can({ type: 'retry' })).toBe(false);
  });

  it('after PARTNER_REMOVED, retry starts a new signup with a clean slate', () => {
    const run = toActive()
      .send({ type: 'account.update', event: 'PARTNER_REMOVED', eventTime: 10 })
      .send({ type: 'retry', by: 'ops' });
    expect(run.matches({ signup: 'awaitingResult' })).toBe(true);
    expect(run.context).toMatchObject({
      sealedToken: undefined,
      contactsSync: { status: 'not_requested' },
      historySync: { status: 'not_requested' },
      history: { status: 'not_requested' },
      offboarding: undefined,
      lastLifecycleEventTime: 10,
    });
    expect(run.timers.size).toBe(0);
  });

  it('removed while payment was missing: reconnection goes back through the payment check', () => {
    const run = toPayment()
      .done('checkPaymentMethod', paymentMissing)
      .send({ type: 'account.update', event: 'ACCOUNT_OFFBOARDED', eventTime: 10 })
      .send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 20 });
    expect(run.stage).toBe('payment');
  });
});

describe('cancel', () => {
  it('cancel midway ends the onboarding for good and stops its timers and calls', () => {
    const run = toLinking().send({ type: 'cancel', by: 'backend' });
    expect(run.stage).toBe('cancelled');
    expect(run.snapshot.status).toBe('done');
    expect(run.snapshot.output).toEqual({ phoneNumber: PHONE, cancelledBy: 'backend' });
    expect(run.timers.size).toBe(0);
  });

  it.each([
    ['prerequisites', () => new Run()],
    ['signup (exchanging)', () => toSignup().send({ type: 'signup.finished', wabaId: WABA, code: CODE, at: T0 })],
    ['registration', () => toRegistration()],
    ['sync', () => toSync()],
    ['payment', () => toPayment()],
    ['active', () => toActive()],
    ['blocked', () => new Run().send({ ...passingReport, appVersion: '1.0' })],
    ['offboarded', () => toActive().send({ type: 'account.update', event: 'PARTNER_REMOVED', eventTime: 1 })],
  ])('from %s', (_stage, make) => {
    const run = make().send({ type: 'cancel' });
    expect(run.stage).toBe('cancelled');
    expect(run.running.size).toBe(0);
    expect(run.timers.size).toBe(0);
    expect(run.context.blocked).toBeUndefined();
  });
});

describe('ops: retry and reset', () => {
  it('retry and reset are refused outside blocked', () => {
    const run = toLinking();
    expect(run.can({ type: 'retry' })).toBe(false);
    expect(run.can({ type: 'reset', to: 'signup' })).toBe(false);
    expect(toActive().can({ type: 'retry' })).toBe(false);
  });

  it('retry is refused when the user cannot fix the reason; reset still works', () => {
    const run = toSignup().send({ type: 'signup.cancelled', errorCode: '3441042', at: T0 });
    expect(run.context.blocked?.reason).toBe('region_not_supported');
    expect(run.can({ type: 'retry' })).toBe(false);
    expect(run.can({ type: 'reset', to: 'prerequisites' })).toBe(true);
    run.send({ type: 'reset', to: 'prerequisites', by: 'ops' });
    expect(run.stage).toBe('prerequisites');
    expect(run.context.blocked).toBeUndefined();
  });

  it('reset to linking or registration needs what signup produced', () => {
    const early = new Run().send({ ...passingReport, connectedElsewhere: true });
    expect(early.can({ type: 'reset', to: 'signup' })).toBe(true);
    expect(early.can({ type: 'reset', to: 'linking' })).toBe(false);
    expect(early.can({ type: 'reset', to: 'registration' })).toBe(false);

    const late = toLinking();
    for (let i = 0; i < 5; i++) late.fire('linkingAttemptTtl');
    expect(late.context.blocked?.reason).toBe('qr_not_scanned');
    expect(late.can({ type: 'reset', to: 'registration' })).toBe(true);
    late.send({ type: 'reset', to: 'registration', by: 'ops' });
    expect(late.matches({ registration: 'subscribingApp' })).toBe(true);
  });
});

describe('remedies', () => {
  it('every blocked reason has remedy text', () => {
    for (const [reason, info] of Object.entries(BLOCKED_REASONS)) {
      expect(`${reason}: ${info.remedy.trim()}`.length).toBeGreaterThan(reason.length + 20);
    }
  });

  it('every sending block and sync failure has remedy text', () => {
    for (const info of [...Object.values(SENDING_BLOCKS), ...Object.values(SYNC_FAILURES)]) {
      expect(info.remedy.trim().length).toBeGreaterThan(20);
    }
  });

  it('every reason the machine can block with is in the table', () => {
    const reasons: BlockedReason[] = Object.values(SIGNUP_ERROR_REASONS);
    for (const reason of reasons) expect(BLOCKED_REASONS[reason].remedy).toBeTruthy();
  });
});

// --- the signup session (flow `session`: every onboarding started since `patched('signup-session')`) ---

const FINISH_AT = T0 + 40_000;
const DAY = 24 * 60 * 60_000;
const finish = { type: 'signup.finished', wabaId: WABA, code: CODE, at: FINISH_AT } as const;
const onApp = { phoneNumberId: PNID, displayPhoneNumber: '+1 555-078-3881', isOnBizApp: true, platformType: 'CLOUD_API' };
const removedCard: FetchStatusCardOutput = { ...card, status: 'DISCONNECTED', isOnBizApp: false, platformType: 'NOT_APPLICABLE' };

function sessionToLinking(settings?: Partial<OnboardingSettings>): Run {
  return new Run(settings, 'session').send(passingReport).send({ type: 'signup.started', at: T0 });
}

function sessionToRegistration(settings?: Partial<OnboardingSettings>): Run {
  return sessionToLinking(settings)
    .send(finish)
    .done('exchangeSignupCode', { sealedToken: SEALED })
    .done('lookupPhoneNumber', onApp)
    .done('subscribeApp', undefined);
}

function sessionToActive(settings?: Partial<OnboardingSettings>): Run {
  return sessionToRegistration(settings)
    .done('checkRegistration', confirmed)
    .done('requestContactsSync', { requestId: 'req-contacts' })
    .done('requestHistorySync', { requestId: 'req-history' })
    .done('checkPaymentMethod', paymentOk)
    .done('fetchStatusCard', card);
}

describe('signup session: linking inside Embedded Signup', () => {
  it('the QR lapses twice inside the session, the third is scanned: FINISH proves it and registration runs', () => {
    const run = sessionToLinking();
    expect(run.context.flow).toBe('session');
    expect(run.matches({ linking: 'session' })).toBe(true);
    expect(run.context.linkingAttempts).toBe(1);
    // Meta shows the QR: nothing to ask of the backend or the simulator, only our countdown.
    expect(run.all.some((a) => a.type === 'startLinkingAttempt')).toBe(false);
    expect(run.timerDelay('linkingAttemptTtl')).toBe(120_000);

    run.fire('linkingAttemptTtl');
    expect(run.notices('linkingLapsed')).toEqual([
      expect.objectContaining({ lapsedAttempt: 1, nextAttempt: 2, remedy: expect.stringMatching(/refresh the code/) }),
    ]);
    run.fire('linkingAttemptTtl');
    expect(run.context.linkingAttempts).toBe(3);

    run.send(finish);
    expect(run.matches({ registration: 'exchangingCode' })).toBe(true);
    expect(run.timers.has('syncWindow')).toBe(true);
    expect(run.timerDelay('syncWindow')).toBe(DAY);
    expect(run.context.syncDeadline).toBe(FINISH_AT + DAY);
    expect(run.context.linkedAt).toBe(FINISH_AT);
    expect(run.spawned()).toEqual([{ id: 'exchangeSignupCode', src: 'exchangeSignupCode', input: { code: CODE } }]);

    run.done('exchangeSignupCode', { sealedToken: SEALED }).done('lookupPhoneNumber', onApp);
    expect(run.matches({ registration: 'subscribingApp' })).toBe(true);
    run.done('subscribeApp', undefined).done('checkRegistration', confirmed);
    expect(run.stage).toBe('sync');
    expect(statusCardOf(run.context).syncDeadline).toBe(FINISH_AT + DAY);
  });

  it('a FINISH without a reported session is accepted', () => {
    const run = new Run(undefined, 'session').send(passingReport).send(finish);
    expect(run.matches({ registration: 'exchangingCode' })).toBe(true);
  });

  it('the legacy flow refuses the session events; the session flow refuses a reported scan', () => {
    expect(new Run().send(passingReport).can({ type: 'signup.started', at: T0 })).toBe(false);
    expect(sessionToLinking().can({ type: 'linking.confirmed', method: 'qr', at: T0 })).toBe(false);
  });

  it('the session abandoned: qr_not_scanned with the remedy; a late FINISH still completes', () => {
    const run = sessionToLinking({ maxLinkingAttempts: 2 });
    run.fire('linkingAttemptTtl').fire('linkingAttemptTtl');
    expect(run.stage).toBe('blocked');
    expect(run.context.blocked).toMatchObject({ reason: 'qr_not_scanned', stage: 'linking' });
    expect(run.notices('blocked')).toHaveLength(1);

    run.send(finish);
    expect(run.matches({ registration: 'exchangingCode' })).toBe(true);
    expect(run.context.blocked).toBeUndefined();
    run.done('exchangeSignupCode', { sealedToken: SEALED }).done('lookupPhoneNumber', onApp).done('subscribeApp', undefined);
    run.done('checkRegistration', confirmed);
    expect(run.stage).toBe('sync');
  });

  it('a refresh on Meta screen counts an attempt; the popup opened again starts a new session', () => {
    const run = sessionToLinking();
    run.send({ type: 'linking.refresh', by: 'backend' });
    expect(run.context.linkingAttempts).toBe(2);
    run.send({ type: 'signup.started', at: T0 + 5_000 });
    expect(run.context.linkingAttempts).toBe(1);
    expect(run.context.signupStartedAt).toBe(T0 + 5_000);
  });

  it('CANCEL at the phone step is its own reason; with an error code, the signup error; otherwise abandoned', () => {
    const phoneStep = sessionToLinking().send({ type: 'signup.cancelled', currentStep: 'PHONE_NUMBER_VERIFICATION', at: T0 });
    expect(phoneStep.context.blocked).toMatchObject({ reason: 'phone_verification_abandoned', stage: 'linking' });
    expect(phoneStep.notices('blocked')[0]).toMatchObject({ remedy: expect.stringMatching(/Linked devices/) });

    const error = sessionToLinking().send({ type: 'signup.cancelled', errorCode: '3441049', at: T0 });
    expect(error.context.blocked).toMatchObject({ reason: 'connected_elsewhere', code: 3441049 });

    const other = sessionToLinking().send({ type: 'signup.cancelled', currentStep: 'PERMISSIONS', at: T0 });
    expect(other.context.blocked).toMatchObject({ reason: 'signup_abandoned', detail: 'PERMISSIONS' });

    // The person opens Meta's popup again: the onboarding resumes without ops.
    phoneStep.send({ type: 'signup.started', at: T0 + 60_000 });
    expect(phoneStep.matches({ linking: 'session' })).toBe(true);
  });

  it.each([
    [100, 'This authorization code has expired.', 'signup_code_expired'],
    [100, 'This authorization code has been used.', 'signup_code_used'],
    [100, 'Invalid verification code format.', 'signup_code_invalid'],
    [101, 'Error validating client secret.', 'app_credentials_invalid'],
    [190, 'Invalid OAuth access token', 'reauthorization_required'],
    [undefined, 'activity ScheduleToClose timeout', 'signup_code_expired'],
  ] as const)('a code exchange refused with %s (%s) blocks with %s', (code, message, reason) => {
    const run = sessionToLinking().send(finish).fail('exchangeSignupCode', code, message);
    expect(run.context.blocked).toMatchObject({ reason, stage: 'registration' });
    expect(BLOCKED_REASONS[reason].retry).toBe('signup');
    expect(run.context.sealedToken).toBeUndefined();
  });

  it('a WABA that does not list the started number is a named block, never another number', () => {
    const run = sessionToLinking()
      .send(finish)
      .done('exchangeSignupCode', { sealedToken: SEALED })
      .done('lookupPhoneNumber', { found: false, listed: ['+1 555-000-1111'] });
    expect(run.context.blocked).toMatchObject({
      reason: 'number_not_in_waba',
      detail: expect.stringContaining('+1 555-000-1111'),
    });
    expect(run.context.phoneNumberId).toBeUndefined();
    expect(run.notices('blocked')[0]).toMatchObject({ remedy: BLOCKED_REASONS.number_not_in_waba.remedy });
  });
});

describe('signup session: the 24 h sync window', () => {
  it('registration confirmed 23 h 59 min after FINISH still syncs', () => {
    const run = sessionToRegistration();
    // The window's timer has not fired: the requests go out.
    run.done('checkRegistration', confirmed);
    expect(run.spawned('requestSync')).toHaveLength(1);
    expect(run.context.syncWindowClosed).toBe(false);
  });

  it('24 h 1 min after FINISH nothing is requested: sync_window_passed, with the remedy, and the backend told', () => {
    const run = sessionToRegistration();
    run.fire('syncWindow');
    expect(run.context.syncWindowClosed).toBe(true);
    run.done('checkRegistration', confirmed);
    expect(run.spawned('requestSync')).toEqual([]);
    expect(run.context.contactsSync.failure).toMatchObject({
      reason: 'sync_window_passed',
      remedy: SYNC_FAILURES.sync_window_passed.remedy,
    });
    expect(run.context.historySync.failure).toMatchObject({ reason: 'sync_window_passed' });
    expect(run.notices('syncFailed').map((n) => n.reason)).toEqual(['sync_window_passed', 'sync_window_passed']);
    expect(run.stage).toBe('payment');
  });
});

describe('signup session: Graph is the truth for lifecycle events', () => {
  it('PARTNER_REMOVED without entry[].time is recorded at its received time, and the read decides', () => {
    const run = sessionToActive();
    run.send({ type: 'account.update', event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY', receivedAt: T0 + 5_000_000 });
    expect(run.context.lifecycleEvents).toEqual([
      { event: 'PARTNER_REMOVED', time: Math.floor((T0 + 5_000_000) / 1000), timeMissing: true, reason: 'PRIMARY_INACTIVITY' },
    ]);
    expect(run.stage).toBe('active'); // not before Meta is read
    expect(run.spawned('fetchStatusCard')).toHaveLength(1);
    run.done('fetchStatusCard', removedCard);
    expect(run.stage).toBe('offboarded');
    expect(run.context.offboarding).toMatchObject({ event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY' });
    expect(run.notices('offboarded')).toHaveLength(1);
  });

  it('ACCOUNT_RECONNECTED dated one second before ACCOUNT_OFFBOARDED: kinds never fence each other', () => {
    const run = sessionToActive();
    run.send({ type: 'account.update', event: 'ACCOUNT_OFFBOARDED', eventTime: 100 }).done('fetchStatusCard', removedCard);
    expect(run.stage).toBe('offboarded');
    run.send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 99 });
    expect(run.context.lifecycleEvents.map((e) => e.stale)).toEqual([undefined, undefined]);
    run.done('fetchStatusCard', card);
    expect(run.stage).toBe('active');
  });

  it('where the read fails, the fallback rules apply: same second in arrival order', () => {
    const run = sessionToActive();
    run.send({ type: 'account.update', event: 'PARTNER_REMOVED', eventTime: 500 }).fail('fetchStatusCard', 2);
    expect(run.stage).toBe('offboarded');
    run.send({ type: 'account.update', event: 'ACCOUNT_RECONNECTED', eventTime: 500 }).fail('fetchStatusCard', 2);
    expect(run.stage).toBe('active');
  });

  it('an older event of the same kind is recorded stale; the same event delivered three times is recorded once', () => {
    const run = sessionToActive();
    const removed = { type: 'account.update', event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY', eventTime: 700 } as const;
    run.send(removed).done('fetchStatusCard', removedCard).send(removed).send(removed);
    expect(run.context.lifecycleEvents).toHaveLength(1);
    expect(run.running.size).toBe(0);
    run.send({ ...removed, eventTime: 600 });
    expect(run.context.lifecycleEvents[1]).toMatchObject({ time: 600, stale: true });
  });

  it('lifecycle events in stages before active are recorded, not dropped', () => {
    const run = sessionToLinking();
    run.send({ type: 'account.update', event: 'PARTNER_ADDED', eventTime: 10 });
    expect(run.context.lifecycleEvents).toEqual([{ event: 'PARTNER_ADDED', time: 10 }]);
    expect(run.matches({ linking: 'session' })).toBe(true);
  });
});

describe('signup session: enforcement and access', () => {
  it('ACCOUNT_RESTRICTION blocks sending with its reason, tells the backend, and a later read that shows it lifted unblocks', () => {
    const run = sessionToActive();
    run.send({
      type: 'account.update',
      event: 'ACCOUNT_RESTRICTION',
      eventTime: 900,
      detail: '[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1900000000}]',
    });
    expect(run.context.sendingState).toMatchObject({ canSend: false, reason: 'account_restricted' });
    run.done('fetchStatusCard', { ...card, canSendMessage: 'LIMITED' });
    expect(run.notices('sendingState')).toEqual([
      {
        kind: 'sendingState',
        phoneNumber: PHONE,
        canSend: false,
        reason: 'account_restricted',
        remedy: SENDING_BLOCKS.account_restricted.remedy,
      },
    ]);
    run.send({ type: 'statusCard.refresh' }).done('fetchStatusCard', card);
    expect(run.context.sendingState).toEqual({ canSend: true });
    expect(run.notices('sendingState')).toEqual([{ kind: 'sendingState', phoneNumber: PHONE, canSend: true }]);
  });

  it('a 190 on a send blocks with reauthorization_required; a new code clears it without starting over', () => {
    const run = sessionToActive();
    run.send({ type: 'send.refused', code: 190, at: T0 });
    expect(run.context.sendingState).toMatchObject({ canSend: false, reason: 'reauthorization_required' });
    run.fail('fetchStatusCard', 190);
    expect(run.notices('sendingState')).toEqual([
      expect.objectContaining({ canSend: false, reason: 'reauthorization_required' }),
    ]);

    run.send({ ...finish, code: 'new-code' });
    expect(run.stage).toBe('active');
    expect(run.spawned()).toEqual([{ id: 'exchangeSignupCode', src: 'exchangeSignupCode', input: { code: 'new-code' } }]);
    run.done('exchangeSignupCode', { sealedToken: 'sealed:v1:new' });
    expect(run.context.sealedToken).toBe('sealed:v1:new');
    run.done('fetchStatusCard', card);
    expect(run.context.sendingState).toEqual({ canSend: true });
    expect(run.notices('sendingState')).toEqual([{ kind: 'sendingState', phoneNumber: PHONE, canSend: true }]);
    expect(run.stage).toBe('active');
  });
});

describe('signup session: the card stays current', () => {
  it('the daily refresh picks up a quality change with no webhook, and the time of the read', () => {
    const run = sessionToActive();
    expect(run.timerDelay('statusCardRefresh')).toBe(DAY);
    run.fire('statusCardRefresh').done('fetchStatusCard', { ...card, qualityRating: 'YELLOW', readAt: T0 + DAY });
    expect(statusCardOf(run.context)).toMatchObject({ qualityRating: 'YELLOW', lastReadAt: T0 + DAY });
    expect(run.timerDelay('statusCardRefresh')).toBe(DAY);
  });
});
