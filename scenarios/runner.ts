/**
 * Plays a scenario against a target, step by step, checking each step's expectations (polled until
 * they hold or time out, since webhooks and activities arrive on their own time). Returns what the
 * onboarding went through, so that two targets can be compared.
 */
import type { Expectation, Scenario, Step } from './schema';
import type { Answer, ScenarioTarget } from './target';

export interface PlayOptions {
  /** Each step and each new transition, as it happens. */
  print?: (line: string) => void;
  /** How long an expectation may take to hold (ms). */
  expectTimeoutMs?: number;
}

export interface Transcript {
  /** The onboarding's stages in the order entered (repeats collapsed). */
  stages: string[];
  finalState: string;
  finalStage: string;
}

export class ScenarioFailure extends Error {
  constructor(scenario: Scenario & { file?: string }, target: string, stepIndex: number, step: Step, message: string) {
    super(`${scenario.file ?? scenario.name} on ${target}: step ${stepIndex + 1} (${step.do}): ${message}`);
    this.name = 'ScenarioFailure';
  }
}

export async function playScenario(
  scenario: Scenario & { file?: string },
  target: ScenarioTarget,
  options: PlayOptions = {},
): Promise<Transcript> {
  const print = options.print ?? (() => {});
  const created = await target.sim('POST', '/numbers', { phoneNumber: scenario.phone, ...scenario.meta });
  if (created.status !== 201)
    throw new Error(`${scenario.name}: the simulator refused the number: ${JSON.stringify(created.body)}`);
  const vars: Record<string, string> = {
    phone: scenario.phone,
    phoneDigits: scenario.phone.slice(1),
    wabaId: created.body.wabaId,
    phoneNumberId: created.body.phoneNumberId,
  };
  let started = false;
  // The onboarding's timeline keeps its latest entries only: read after every step, it is followed
  // from the last entry seen, so that a long step (days of re-checks) loses no stage.
  let lastSeen: string | undefined;
  const stages: string[] = [];
  const followTimeline = async () => {
    if (!started) return;
    const timeline = ((await target.onboarding(scenario.phone)).body?.timeline ?? []) as {
      at: string;
      from: string;
      to: string;
      event: string;
    }[];
    const keys = timeline.map((t) => JSON.stringify(t));
    const fresh = timeline.slice(lastSeen === undefined ? 0 : keys.lastIndexOf(lastSeen) + 1);
    for (const t of fresh) {
      print(`    ${t.at}  ${t.from} → ${t.to}  (${t.event})`);
      const stage = t.to.split(/[.,]/)[0]!;
      if (stage !== stages.at(-1)) stages.push(stage);
    }
    if (keys.length) lastSeen = keys.at(-1);
  };

  for (const [index, raw] of scenario.steps.entries()) {
    const step = substitute(raw, vars) as Step;
    const fail = (message: string) => new ScenarioFailure(scenario, target.name, index, step, message);
    print(`  ${index + 1}. ${describe(step)}`);
    const answer = await perform(target, scenario.phone, vars, step, fail);
    if (step.do === 'start') started = true;
    if (answer)
      checkAnswer(
        answer,
        'answer' in step ? step.answer : undefined,
        step.do !== 'sim' && !target.answersEvents && step.do !== 'start',
        fail,
      );
    if (step.expect) {
      await expectEventually(target, scenario.phone, vars, step.expect, options.expectTimeoutMs ?? 30_000, fail);
      target.expectationHeld?.(scenario.phone, step.expect);
    }
    await followTimeline();
  }

  const final = started ? (await target.onboarding(scenario.phone)).body : undefined;
  return {
    stages,
    finalState: final?.state ?? '(not started)',
    finalStage: final?.stage ?? '(not started)',
  };
}

async function perform(
  target: ScenarioTarget,
  phone: string,
  vars: Record<string, string>,
  step: Step,
  fail: (m: string) => Error,
): Promise<Answer | undefined> {
  switch (step.do) {
    case 'start':
      return target.start(phone, { phoneNumber: phone, ...(step.settings ? { settings: step.settings } : {}) });
    case 'prerequisites':
      return target.prerequisites(phone, step.report);
    case 'signup': {
      const opened = await target.sim('POST', '/signup', {
        phoneNumber: phone,
        ...(step.abandonAt ? { abandonAt: step.abandonAt } : {}),
      });
      if (opened.status !== 200)
        throw fail(`the simulated Embedded Signup answered ${opened.status}: ${JSON.stringify(opened.body)}`);
      // The popup opened: the backend's page reports the session.
      const started = await target.event(phone, { type: 'signupStarted' });
      // An error Meta showed, or the person left: the page received a CANCEL, forwarded as is.
      if (opened.body.message) return target.signup(phone, { event: opened.body.message.event, data: opened.body.message.data });
      if (!step.scan) return started;
      return finishSignup(target, phone, step.codeAgeMs, fail);
    }
    case 'finish':
      return finishSignup(target, phone, step.codeAgeMs, fail);
    case 'cancelSignup': {
      const cancelled = await target.sim('POST', `/signup/${phone}/cancel`, { currentStep: step.currentStep });
      if (cancelled.status !== 200)
        throw fail(`the simulated popup answered ${cancelled.status}: ${JSON.stringify(cancelled.body)}`);
      return target.signup(phone, { event: cancelled.body.message.event, data: cancelled.body.message.data });
    }
    case 'event':
      return target.event(phone, { type: step.type });
    case 'send':
      return target.send(vars.phoneNumberId!, step.waId, { clientMessageId: step.clientMessageId, message: step.message });
    case 'sim': {
      const deadline = Date.now() + (step.retryFor ?? 0);
      for (;;) {
        const answer = await target.sim(step.method, step.path, step.body);
        if (answered(answer, step.answer) || Date.now() >= deadline) return answer;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    case 'webhook': {
      const sent = await target.sim('POST', '/webhooks', {
        wabaId: vars.wabaId,
        field: step.field,
        value: step.value,
        ...(step.time !== undefined ? { time: step.time } : {}),
      });
      if (sent.status !== 202) throw fail(`the simulator did not send the webhook: ${JSON.stringify(sent.body)}`);
      return undefined;
    }
    case 'advance':
      if (!target.canAdvance) throw fail(`${target.name} cannot move its clock`);
      await target.sim('POST', '/clock/advance', { ms: step.by });
      await target.advance(step.by);
      return undefined;
    case 'check':
      return undefined;
  }
}

/** The phone scans the popup's QR; Meta posts FINISH with the code, which the backend forwards. */
async function finishSignup(target: ScenarioTarget, phone: string, codeAgeMs: number | undefined, fail: (m: string) => Error) {
  const scanned = await target.sim('POST', `/linking/${phone}/scan`);
  if (scanned.status !== 200 || !scanned.body?.message)
    throw fail(`the simulated phone could not scan: ${scanned.status} ${JSON.stringify(scanned.body)}`);
  if (codeAgeMs) await target.sim('POST', '/clock/advance', { ms: codeAgeMs });
  const { event, data } = scanned.body.message;
  return target.signup(phone, { event, data, code: scanned.body.code });
}

const answered = (answer: Answer, expected: number | undefined) =>
  expected === undefined ? answer.status >= 200 && answer.status < 300 : answer.status === expected;

function checkAnswer(answer: Answer, expected: number | undefined, unobservable: boolean, fail: (m: string) => Error): void {
  if (unobservable) return;
  if (!answered(answer, expected))
    throw fail(`answered ${answer.status} (expected ${expected ?? '2xx'}): ${JSON.stringify(answer.body)}`);
}

async function expectEventually(
  target: ScenarioTarget,
  phone: string,
  vars: Record<string, string>,
  expect: Expectation,
  timeoutMs: number,
  fail: (m: string) => Error,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mismatch = await firstMismatch(target, phone, vars, expect);
    if (mismatch === undefined) return;
    if (Date.now() > deadline) throw fail(mismatch);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Why the expectation does not hold yet, or undefined when it does. */
async function firstMismatch(
  target: ScenarioTarget,
  phone: string,
  vars: Record<string, string>,
  expect: Expectation,
): Promise<string | undefined> {
  if (expect.onboarding) {
    const o = await target.onboarding(phone);
    const why = o.status === 200 ? mismatch(o.body, expect.onboarding, 'onboarding') : `GET onboarding answered ${o.status}`;
    if (why) return `${why}\n  onboarding is ${JSON.stringify(summary(o.body))}`;
  }
  for (const [waId, expected] of Object.entries(expect.conversations ?? {})) {
    const c = await target.conversation(vars.phoneNumberId!, waId);
    const why =
      c.status === 200 ? mismatch(c.body, expected, `conversations.${waId}`) : `GET conversation ${waId} answered ${c.status}`;
    if (why) return `${why}\n  conversation is ${JSON.stringify(c.body)}`;
  }
  for (const [waId, expected] of Object.entries(expect.messages ?? {})) {
    const m = await target.messages(vars.phoneNumberId!, waId);
    const why =
      m.status === 200
        ? unorderedMismatch(m.body.messages, expected, `messages.${waId}`)
        : `GET messages ${waId} answered ${m.status}`;
    if (why) return `${why}\n  messages are ${JSON.stringify(m.body?.messages)}`;
  }
  if (expect.callbacks) {
    const kinds = await target.callbacks(phone);
    const missing = kinds && expect.callbacks.filter((k) => !kinds.includes(k));
    if (missing?.length) return `callbacks: no ${missing.join(', ')} among ${JSON.stringify(kinds)}`;
  }
  return undefined;
}

/**
 * Where `actual` differs from `expected`: objects by the expected keys, arrays by length and
 * element, strings written `/…/` as regular expressions, anything else by equality.
 */
export function mismatch(actual: unknown, expected: unknown, path: string): string | undefined {
  if (typeof expected === 'string' && /^\/.+\/$/.test(expected)) {
    return typeof actual === 'string' && new RegExp(expected.slice(1, -1)).test(actual)
      ? undefined
      : `${path}: ${JSON.stringify(actual)} does not match ${expected}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: ${JSON.stringify(actual)} is not a list`;
    if (actual.length !== expected.length) return `${path}: ${actual.length} items, expected ${expected.length}`;
    for (const [i, e] of expected.entries()) {
      const why = mismatch(actual[i], e, `${path}[${i}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return `${path}: ${JSON.stringify(actual)} is not an object`;
    for (const [key, e] of Object.entries(expected)) {
      const why = mismatch((actual as Record<string, unknown>)[key], e, `${path}.${key}`);
      if (why) return why;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

/** Each expected item matches a different actual one, in any order (Meta's times are whole seconds). */
function unorderedMismatch(actual: unknown[], expected: unknown[], path: string): string | undefined {
  if (actual.length !== expected.length) return `${path}: ${actual.length} items, expected ${expected.length}`;
  const unused = [...actual];
  for (const [i, e] of expected.entries()) {
    const found = unused.findIndex((a) => mismatch(a, e, path) === undefined);
    if (found < 0) return `${path}[${i}]: none matches ${JSON.stringify(e)}`;
    unused.splice(found, 1);
  }
  return undefined;
}

function summary(o: any) {
  return o && { stage: o.stage, state: o.state, blocked: o.blocked, linking: o.linking, payment: o.payment };
}

function substitute(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [substitute(k, vars) as string, substitute(v, vars)]));
  return value;
}

function describe(step: Step): string {
  switch (step.do) {
    case 'start':
      return `start the onboarding${step.settings ? ` ${JSON.stringify(step.settings)}` : ''}`;
    case 'prerequisites':
      return `prerequisites ${JSON.stringify(step.report)}`;
    case 'signup':
      return `Embedded Signup${step.abandonAt ? `, abandoned at ${step.abandonAt}` : ''}${step.scan ? '' : ', popup open'}${step.codeAgeMs ? `, code ${step.codeAgeMs} ms old` : ''}`;
    case 'finish':
      return `the phone scans, Meta posts FINISH${step.codeAgeMs ? `, code ${step.codeAgeMs} ms old` : ''}`;
    case 'cancelSignup':
      return `the popup is left at ${step.currentStep}`;
    case 'event':
      return `event ${step.type}`;
    case 'send':
      return `send ${step.message.type} ${step.clientMessageId} to ${step.waId}`;
    case 'sim':
      return `simulator ${step.method} ${step.path}${step.body !== undefined ? ` ${JSON.stringify(step.body)}` : ''}`;
    case 'webhook':
      return `webhook ${step.field}`;
    case 'advance':
      return `advance the clock ${step.by} ms`;
    case 'check':
      return 'check';
  }
}
