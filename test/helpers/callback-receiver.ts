import type { Server } from 'node:http';
import express from 'express';
import { CALLBACK_DELIVERY_HEADER, CALLBACK_SIGNATURE_HEADER, signCallback } from '../../activities/backend';

export interface ReceivedCallback {
  kind: string;
  deliveryId: string;
  [field: string]: unknown;
}

/** The backend's side of callbacks: verifies each signature and keeps one per delivery id. */
export async function startCallbackReceiver(secret: string) {
  const received: ReceivedCallback[] = [];
  let rejectedSignatures = 0;
  const app = express();
  app.post('/callbacks', express.raw({ type: 'application/json' }), (req, res) => {
    const raw = req.body as Buffer;
    if (req.get(CALLBACK_SIGNATURE_HEADER) !== signCallback(raw, secret)) {
      rejectedSignatures++;
      res.status(401).end();
      return;
    }
    const body = JSON.parse(raw.toString()) as ReceivedCallback;
    if (body.deliveryId !== req.get(CALLBACK_DELIVERY_HEADER)) {
      res.status(400).end();
      return;
    }
    if (!received.some((r) => r.deliveryId === body.deliveryId)) received.push(body);
    res.status(204).end();
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/callbacks`,
    received,
    get rejectedSignatures() {
      return rejectedSignatures;
    },
    kinds: () => received.map((r) => r.kind),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
