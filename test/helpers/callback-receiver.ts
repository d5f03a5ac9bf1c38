import type { Server } from 'node:http';
import express from 'express';
import { CALLBACK_DELIVERY_HEADER, CALLBACK_SIGNATURE_HEADER, signCallback } from '../../activities/backend';

export interface ReceivedCallback {
  kind: string;
  deliveryId: string;
  [field: string]: unknown;
}

/**
 * How the backend answers one attempt: a status (after `delayMs`, a slow answer), or `hang`: no
 * answer at all, so the sender's own timeout ends the attempt.
 */
export type CallbackAnswer = { status: number; delayMs?: number } | 'hang';

/** One POST as it reached the backend, whatever the answer. */
export interface CallbackAttempt {
  at: number;
  deliveryId: string | undefined;
  signature: string | undefined;
  body: string;
  callback: ReceivedCallback | undefined;
  /** The status answered; `hang` when the receiver never answered. */
  answer: number | 'hang';
}

interface Script {
  match: (callback: ReceivedCallback) => boolean;
  answers: CallbackAnswer[];
}

/**
 * The backend's side of callbacks: verifies each signature, records every attempt, and answers as
 * scripted (refusals, slow answers, no answer) before accepting. `received` keeps one accepted
 * callback per delivery id, in the order they were accepted.
 */
export async function startCallbackReceiver(secret: string) {
  const received: ReceivedCallback[] = [];
  const attempts: CallbackAttempt[] = [];
  const scripts: Script[] = [];
  const hanging = new Set<express.Response>();
  let rejectedSignatures = 0;
  const app = express();
  app.post('/callbacks', express.raw({ type: 'application/json' }), async (req, res) => {
    const raw = req.body as Buffer;
    const signature = req.get(CALLBACK_SIGNATURE_HEADER);
    const attempt: CallbackAttempt = {
      at: Date.now(),
      deliveryId: req.get(CALLBACK_DELIVERY_HEADER),
      signature,
      body: raw.toString(),
      callback: undefined,
      answer: 401,
    };
    attempts.push(attempt);
    if (signature !== signCallback(raw, secret)) {
      rejectedSignatures++;
      res.status(401).end();
      return;
    }
    const body = JSON.parse(raw.toString()) as ReceivedCallback;
    attempt.callback = body;
    if (body.deliveryId !== attempt.deliveryId) {
      attempt.answer = 400;
      res.status(400).end();
      return;
    }
    const answer = scripts.find((s) => s.answers.length > 0 && s.match(body))?.answers.shift();
    if (answer === 'hang') {
      attempt.answer = 'hang';
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    const status = answer?.status ?? 204;
    attempt.answer = status;
    if (status >= 200 && status < 300 && !received.some((r) => r.deliveryId === body.deliveryId)) received.push(body);
    res.status(status).end();
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/callbacks`,
    received,
    attempts,
    get rejectedSignatures() {
      return rejectedSignatures;
    },
    kinds: () => received.map((r) => r.kind),
    /** The next attempts of callbacks that `match` get these answers, in order; then they are accepted. */
    script(match: (callback: ReceivedCallback) => boolean, answers: CallbackAnswer[]) {
      const script: Script = { match, answers: [...answers] };
      scripts.push(script);
      return {
        /** The answers not used yet. */
        get left() {
          return script.answers.length;
        },
        /** Accept from now on. */
        release: () => void script.answers.splice(0),
      };
    },
    close: () =>
      new Promise<void>((done) => {
        for (const res of hanging) res.destroy();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
