/**
 * Scenarios in machine mode: the onboarding and conversation machines run in this process
 * (scenarios/machine-runtime.ts) on a virtual clock, with no Temporal and no API server. What the
 * API would do is done with the API's own schemas, request → event translation (api/events.ts) and
 * views; Meta is the same simulator (in this process), whose webhooks are verified and routed with
 * the API's own webhook schemas and routing. The real activities run, except the two that need
 * Temporal: the sender queue is a direct send (the sender is a workflow, not a machine) and the
 * token lookup reads the onboarding's context.
 */
import type { Server } from 'node:http';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import express from 'express';
import pino from 'pino';
import { z } from 'zod';
import { createConversationActivities } from '../activities/conversations';
import { createOnboardingActivities } from '../activities/onboarding';
import { openMessageStore } from '../store';
import type { MessageStore } from '../store/message-store';
import { sendEvent } from '../api/conversations/events';
import { presentConversation } from '../api/conversations/presenter';
import { sendMessageSchema } from '../api/conversations/schemas';
import { prerequisitesEvent, signupEvent, userEvent } from '../api/onboardings/events';
import { presentOnboarding } from '../api/onboardings/presenter';
import { signWebhook } from '../api/webhooks/signature';
import { prerequisitesSchema, signupResultSchema, startOnboardingSchema, userEventSchema } from '../api/onboardings/schemas';
import { routeChanges } from '../api/webhooks/route-changes';
import { ANY_NUMBER } from '../api/webhooks/number-check';
import { envelopeSchema } from '../api/webhooks/schemas';
import { loadConfig, type Config } from '../config';
import {
  conversationDedupeKey,
  conversationMachine,
  sendRefusal,
  windowOf,
  type ConversationContext,
  type EnqueueSendParams,
} from '../machines/conversation';
import { onboardingMachine, type OnboardingContext, type OnboardingEvent } from '../machines/onboarding';
import { createSimulator } from '../simulator/app';
import { onboardingActivities } from '../workflows/onboarding';
import { conversationWorkflowId, onboardingWorkflowId } from '../contracts/ids';
import type { MachineEvent, MachineView } from '../contracts/machine-api';
import type { SendOutcome } from '../contracts/sender';
import { isSendingBlockCode } from '../machines/meta-codes';
import type { Coverage } from './coverage';
import { EffectLedger } from './effects';
import { MachineRuntime, type ActivityFunction } from './machine-runtime';
import type { Answer, ScenarioTarget } from './target';

/** The send API's view of a conversation, from its machine alone (every send goes through it here). */
function presentMachineConversation(view: MachineView<ConversationContext>) {
  const { phoneNumberId, waId, counts } = view.context;
  return presentConversation({ phoneNumberId, waId }, windowOf(view), counts);
}

const APP_SECRET = 'scenario-machine-app-secret';
/** Sends Meta refused for a while: tried again at once in machine mode, up to the sender's bound. */
const SEND_ATTEMPTS = 10;

export interface MachineTargetOptions {
  /** Transitions and states reached, per machine. */
  coverage?: { onboarding: Coverage; conversation: Coverage };
}

export async function startMachineTarget({ coverage }: MachineTargetOptions = {}) {
  // Time flows as on a real server (short timers such as registration polls fire by themselves),
  // and `advance` jumps it forward: the virtual clock is the real one plus what was skipped.
  let skipped = 0;
  const clock = () => Date.now() + skipped;
  const onboardings = new Map<string, MachineRuntime>();
  const conversations = new Map<string, MachineRuntime>();
  const callbacks: { phoneNumber: string; kind: string }[] = [];
  /** The effects each machine emitted, until the expectations that check them hold. */
  const effects = new EffectLedger();

  // Webhooks from the simulator: verified and routed exactly as the API does, delivered to the runtimes.
  let receiving = 0;
  const receiver = express();
  receiver.post('/webhooks/meta', express.raw({ type: () => true, limit: '10mb' }), (req, res) => {
    receiving++;
    try {
      const raw = req.body as Buffer;
      if (req.get('x-hub-signature-256') !== signWebhook(raw, APP_SECRET)) return void res.status(401).end();
      const routed = routeChanges(envelopeSchema.parse(JSON.parse(raw.toString('utf8'))), clock(), ANY_NUMBER);
      for (const { workflowId, event } of routed.deliveries) onboardingById(workflowId)?.receive(event as MachineEvent);
      for (const { wabaId, event } of routed.byWaba) {
        for (const o of onboardings.values())
          if ((o.current.context as OnboardingContext).wabaId === wabaId) o.receive(event as MachineEvent);
      }
      for (const { workflowId, conversation, event } of routed.conversations)
        conversationRuntime(workflowId, conversation).receive(event as MachineEvent);
      res.json({ ok: true });
    } finally {
      receiving--;
    }
  });
  const receiverServer: Server = await new Promise((resolve) => {
    const s = receiver.listen(0, '127.0.0.1', () => resolve(s));
  });
  const receiverUrl = `http://127.0.0.1:${(receiverServer.address() as { port: number }).port}/webhooks/meta`;

  const simulator = createSimulator({
    appId: '1000000000000002',
    appSecret: APP_SECRET,
    webhookUrl: receiverUrl,
    webhookRetryIntervalMs: 100,
  });
  const sim = await simulator.listen(0);
  const config: Config = loadConfig({
    META_GRAPH_BASE_URL: sim.url,
    META_APP_ID: '1000000000000002',
    META_APP_SECRET: APP_SECRET,
    DATABASE_URL: 'memory://',
    LOG_LEVEL: 'error',
  });
  const log = pino({ level: 'silent' });
  const store: MessageStore = await openMessageStore(config);

  const onboardingEffects = createOnboardingActivities(config, log);
  const conversationEffects = createConversationActivities({
    config,
    store,
    client: undefined as never, // only the default token lookup and enqueueSend use it; both are replaced here
    log,
    credentials: async (phoneNumberId) => {
      for (const [phone, o] of onboardings) {
        const c = o.current.context as OnboardingContext;
        if (c.phoneNumberId === phoneNumberId && c.sealedToken)
          return { workflowId: onboardingWorkflowId(phone), sealedToken: c.sealedToken };
      }
      return undefined;
    },
  });
  const implementations: Record<string, ActivityFunction> = {
    ...(onboardingEffects as unknown as Record<string, ActivityFunction>),
    ...(conversationEffects as unknown as Record<string, ActivityFunction>),
    // The backend is "told" by recording the callback (the workflow's activity POSTs it, signed).
    notifyBackend: async (params) => void callbacks.push(params as { phoneNumber: string; kind: string }),
    startLinkingAttempt: async (params) => {
      await onboardingEffects.startLinkingAttempt(params as never); // no BACKEND_CALLBACK_URL: only the simulator's new code
      callbacks.push({ phoneNumber: (params as { phoneNumber: string }).phoneNumber, kind: 'linkingAttempt' });
    },
    enqueueSend: async (params) => void directSend(params as EnqueueSendParams),
  };
  // Activities' expected failures (an expired code, a refused payment) are outcomes here, not news.
  const activityLogger = new DefaultLogger('ERROR');
  /** Each activity in an activity context of its workflow id, as the worker runs it. */
  const activitiesOf = (workflowId: string): Record<string, ActivityFunction> =>
    Object.fromEntries(
      Object.entries(implementations).map(([name, fn]) => [
        name,
        (input: unknown) =>
          new MockActivityEnvironment(
            { activityType: name, workflowExecution: { workflowId, runId: 'machine-mode' } },
            { logger: activityLogger },
          ).run(fn, input),
      ]),
    );
  const maxAttempts = (name: string) =>
    ({ ...onboardingActivities.default, ...onboardingActivities[name] }).retry?.maximumAttempts ??
    (name in onboardingEffects ? 5 : 3);

  function runtime(
    workflowId: string,
    machine: typeof onboardingMachine | typeof conversationMachine,
    input: unknown,
    extra: Partial<ConstructorParameters<typeof MachineRuntime>[0]> = {},
  ) {
    const cov = machine === onboardingMachine ? coverage?.onboarding : coverage?.conversation;
    const waId = (input as { waId?: string }).waId;
    const r = new MachineRuntime({
      machine,
      input,
      activities: activitiesOf(workflowId),
      maxAttempts,
      now: clock,
      ...(cov
        ? {
            onTransitionTaken: cov.recordTransition,
            onSnapshot: cov.recordSnapshot,
            onStep: (step) => effects.emitted(workflowId, cov, step.byMicrostep, waId),
          }
        : {}),
      ...extra,
    });
    return r;
  }

  function onboardingById(workflowId: string) {
    return onboardings.get(workflowId.replace(/^onboarding:/, ''));
  }

  function conversationRuntime(workflowId: string, input: { phoneNumberId: string; waId: string }) {
    let c = conversations.get(workflowId);
    if (!c) {
      c = runtime(workflowId, conversationMachine, input, { dedupeKey: conversationDedupeKey, receivedAtField: 'at' });
      conversations.set(workflowId, c);
    }
    return c;
  }

  /** The sender's outcomes, told to the conversation (and the onboarding) as the sender workflow tells them. */
  async function directSend({ phoneNumberId, waId, clientMessageId, message }: EnqueueSendParams) {
    const conversation = conversations.get(conversationWorkflowId(phoneNumberId, waId))!;
    let outcome: SendOutcome = { outcome: 'retry', reason: 'not sent' };
    for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      outcome = await conversationEffects.sendMessage({ phoneNumberId, waId, clientMessageId, message });
      if (outcome.outcome !== 'retry' && outcome.outcome !== 'throttled') break;
    }
    const at = clock();
    switch (outcome.outcome) {
      case 'accepted':
        return conversation.receive({ type: 'send.accepted', clientMessageId, wamid: outcome.wamid, at });
      case 'unconfirmed':
        return conversation.receive({ type: 'send.unconfirmed', clientMessageId, at });
      default: {
        const code = 'code' in outcome ? outcome.code : undefined;
        const title = outcome.outcome === 'refused' ? outcome.title : `gave up after ${SEND_ATTEMPTS} attempts`;
        conversation.receive({ type: 'send.failed', clientMessageId, title, at, ...(code !== undefined ? { code } : {}) });
        const onboardingId = outcome.outcome === 'refused' ? outcome.onboardingWorkflowId : undefined;
        if (isSendingBlockCode(code) && onboardingId) {
          onboardingById(onboardingId)?.receive({ type: 'send.refused', code, at } satisfies OnboardingEvent as MachineEvent);
        }
      }
    }
  }

  const runtimes = () => [...onboardings.values(), ...conversations.values()];
  const fireDueTimers = () => {
    for (const r of runtimes()) r.fireTimersDueAt(clock());
  };
  const ticker = setInterval(fireDueTimers, 20);

  /** Until no machine has an effect running and no webhook is on its way. */
  async function quiescent() {
    for (let quietRounds = 0; quietRounds < 2;) {
      await Promise.all(runtimes().map((r) => r.settled()));
      await new Promise((r) => setTimeout(r, 20));
      const busy = receiving > 0 || simulator.outbox.pending().length > 0 || runtimes().some((r) => r.busy);
      quietRounds = busy ? 0 : quietRounds + 1;
    }
  }

  /** What the API answers for an event its Update validator refuses (409), or the new view. */
  function update(phone: string, event: MachineEvent): Answer {
    const o = onboardings.get(phone);
    if (!o) return notFound(onboardingWorkflowId(phone));
    if (!o.can(event))
      return {
        status: 409,
        body: { error: { code: 'event_refused', message: `state ${o.view().state} cannot take ${event.type}` } },
      };
    o.receive(event);
    return { status: 200, body: presentOnboarding(onboardingWorkflowId(phone), o.view() as MachineView<OnboardingContext>) };
  }

  const target: ScenarioTarget & { close(): Promise<void>; quiescent(): Promise<void> } = {
    name: 'machine',
    answersEvents: true,
    canAdvance: true,

    async sim(method, path, body) {
      const response = await fetch(`${sim.url}/_sim${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      await quiescent();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },

    async start(phone, body) {
      return parsed(startOnboardingSchema, body, ({ phoneNumber, settings }) => {
        const existing = onboardings.get(phoneNumber);
        const running = existing?.current.status === 'active';
        if (!running)
          onboardings.set(
            phoneNumber,
            runtime(onboardingWorkflowId(phoneNumber), onboardingMachine, { phoneNumber, ...(settings ? { settings } : {}) }),
          );
        return {
          status: running ? 200 : 201,
          body: presentOnboarding(
            onboardingWorkflowId(phone),
            onboardings.get(phoneNumber)!.view() as MachineView<OnboardingContext>,
          ),
        };
      });
    },
    prerequisites: (phone, body) =>
      parsed(prerequisitesSchema, body, (r) => update(phone, prerequisitesEvent(r, clock()) as MachineEvent)),
    signup: (phone, body) => parsed(signupResultSchema, body, (r) => update(phone, signupEvent(r, clock()) as MachineEvent)),
    event: (phone, body) => parsed(userEventSchema, body, (r) => update(phone, userEvent(r, clock()) as MachineEvent)),
    async send(phoneNumberId, waId, body) {
      return parsed(sendMessageSchema, body, (request) => {
        const c = conversationRuntime(conversationWorkflowId(phoneNumberId, waId), { phoneNumberId, waId });
        const event = sendEvent(request, clock()) as MachineEvent;
        if (!c.can(event)) {
          const refusal = sendRefusal(c.current as never, event);
          return {
            status: 409,
            body: { error: { code: refusal?.code ?? 'event_refused', message: refusal?.message ?? `cannot take ${event.type}` } },
          };
        }
        c.receive(event);
        return {
          status: 202,
          body: {
            clientMessageId: request.clientMessageId,
            status: 'queued',
            conversation: presentMachineConversation(c.view() as MachineView<ConversationContext>),
          },
        };
      });
    },

    async onboarding(phone) {
      const o = onboardings.get(phone);
      return o
        ? { status: 200, body: presentOnboarding(onboardingWorkflowId(phone), o.view() as MachineView<OnboardingContext>) }
        : notFound(onboardingWorkflowId(phone));
    },
    async conversation(phoneNumberId, waId) {
      const c = conversations.get(conversationWorkflowId(phoneNumberId, waId));
      return c
        ? { status: 200, body: presentMachineConversation(c.view() as MachineView<ConversationContext>) }
        : notFound(conversationWorkflowId(phoneNumberId, waId));
    },
    async messages(phoneNumberId, waId) {
      return { status: 200, body: await store.listMessages({ phoneNumberId, waId, limit: 200, order: 'asc' }) };
    },
    async callbacks(phone) {
      return callbacks.filter((c) => c.phoneNumber === phone).map((c) => c.kind);
    },

    /** Fires every timer that falls due, in time order, letting each one's effects finish first. */
    async advance(ms) {
      const until = clock() + ms;
      for (;;) {
        await quiescent();
        const due = runtimes()
          .map((r) => r.nextTimerDue(until))
          .filter((d): d is number => d !== undefined);
        if (due.length === 0) break;
        skipped = Math.max(skipped, Math.min(...due) - Date.now());
        fireDueTimers();
      }
      skipped = Math.max(skipped, until - Date.now());
      await quiescent();
    },

    expectationHeld(phone, expectation) {
      const phoneNumberId = (onboardings.get(phone)?.current.context as OnboardingContext | undefined)?.phoneNumberId;
      const ofNumber = [...conversations].filter(
        ([, c]) => phoneNumberId !== undefined && (c.current.context as ConversationContext).phoneNumberId === phoneNumberId,
      );
      effects.held(expectation, [onboardingWorkflowId(phone), ...ofNumber.map(([id]) => id)]);
    },

    quiescent,

    async close() {
      clearInterval(ticker);
      await sim.close();
      await new Promise<void>((done) => {
        receiverServer.close(() => done());
        receiverServer.closeAllConnections();
      });
      await store.close();
    },
  };
  return target;
}

function parsed<T>(schema: z.ZodType<T>, body: unknown, then: (value: T) => Answer): Promise<Answer> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return Promise.resolve({
      status: 400,
      body: { error: { code: 'invalid_request', message: issue.message, field: `body.${issue.path.join('.')}` } },
    });
  }
  return Promise.resolve(then(result.data));
}

function notFound(workflowId: string): Answer {
  return { status: 404, body: { error: { code: 'not_found', message: `no ${workflowId}` } } };
}

export type MachineTarget = Awaited<ReturnType<typeof startMachineTarget>>;
