/**
 * Scenarios against the real stack: the API and the simulator over HTTP, the workflows on Temporal.
 * On the time-skipping test server (which has no Workflow Updates) the onboarding's events and the
 * sends go as the signals the API's Updates would carry, built by the API's own translation.
 */
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { sendEvent } from '../api/conversations/events';
import { sendMessageSchema } from '../api/conversations/schemas';
import { prerequisitesEvent, signupEvent, userEvent } from '../api/onboardings/events';
import { prerequisitesSchema, signupResultSchema, userEventSchema } from '../api/onboardings/schemas';
import { conversationWorkflowId, onboardingWorkflowId } from '../contracts/ids';
import { eventSignal, type MachineEvent } from '../contracts/machine-api';
import type { Answer, ScenarioTarget } from './target';

export interface HttpTargetOptions {
  name: string;
  apiUrl: string;
  apiKey: string;
  simulatorUrl: string;
  /** Send events as signals with this client (the time-skipping server); the clock is the server's. */
  signals?: { client: Client; taskQueue: string; now: () => Promise<number> };
  /** Moves Temporal's clock; unset: the clock cannot be moved. */
  advance?: (ms: number) => Promise<void>;
  /** The backend's received callbacks; unset: not observable. */
  callbacks?: (phone: string) => Promise<string[]>;
}

export function httpTarget(options: HttpTargetOptions): ScenarioTarget {
  const http = async (
    base: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const api = (method: string, path: string, body?: unknown) =>
    http(options.apiUrl, method, path, body, { 'x-api-key': options.apiKey });
  const p = encodeURIComponent;
  const { signals } = options;

  /** The API's route, or (signal mode) the same event as a signal, answered with the onboarding read back. */
  async function onboardingEvent<T>(
    phone: string,
    route: string,
    body: unknown,
    schema: z.ZodType<T>,
    toEvent: (v: T, at: number) => unknown,
  ) {
    if (!signals) return api('POST', `/onboardings/${p(phone)}/${route}`, body);
    await signals.client.workflow
      .getHandle(onboardingWorkflowId(phone))
      .signal(eventSignal, toEvent(schema.parse(body), await signals.now()) as MachineEvent);
    return api('GET', `/onboardings/${p(phone)}`);
  }

  return {
    name: options.name,
    answersEvents: !signals,
    canAdvance: options.advance !== undefined,
    sim: (method, path, body) => http(options.simulatorUrl, method, `/_sim${path}`, body),
    start: (_phone, body) => api('POST', '/onboardings', body),
    prerequisites: (phone, body) => onboardingEvent(phone, 'prerequisites', body, prerequisitesSchema, prerequisitesEvent),
    signup: (phone, body) => onboardingEvent(phone, 'signup', body, signupResultSchema, signupEvent),
    event: (phone, body) => onboardingEvent(phone, 'events', body, userEventSchema, userEvent),
    async send(phoneNumberId, waId, body) {
      if (!signals) return api('POST', `/numbers/${p(phoneNumberId)}/conversations/${p(waId)}/messages`, body);
      await signals.client.workflow.signalWithStart('conversationWorkflow', {
        workflowId: conversationWorkflowId(phoneNumberId, waId),
        taskQueue: signals.taskQueue,
        args: [{ input: { phoneNumberId, waId } }],
        signal: eventSignal,
        signalArgs: [sendEvent(sendMessageSchema.parse(body), await signals.now()) as MachineEvent],
      });
      return api('GET', `/numbers/${p(phoneNumberId)}/conversations/${p(waId)}`);
    },
    onboarding: (phone) => api('GET', `/onboardings/${p(phone)}`),
    conversation: (phoneNumberId, waId) => api('GET', `/numbers/${p(phoneNumberId)}/conversations/${p(waId)}`),
    messages: (phoneNumberId, waId) =>
      api('GET', `/numbers/${p(phoneNumberId)}/conversations/${p(waId)}/messages?order=asc&limit=200`),
    callbacks: async (phone) => options.callbacks?.(phone),
    async advance(ms) {
      if (!options.advance) throw new Error(`${options.name} cannot move its clock`);
      await options.advance(ms);
    },
  };
}
