import type { Payload } from '@temporalio/common';
import type { CodecPayloads, CodecRequest } from './schemas';

/** A payload as the codec protocol carries it (base64 strings) to the SDK's bytes. */
export const fromWire = (p: CodecRequest['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});

/** The SDK's bytes back to the protocol's base64 strings. */
export const toWire = (p: Payload): CodecPayloads['payloads'][number] => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
