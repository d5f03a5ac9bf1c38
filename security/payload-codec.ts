import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config';

/**
 * Temporal payload codec: every payload (workflow and activity inputs and results, signals,
 * Updates, queries, memos) is sealed with AES-256-GCM before it leaves the process, so Temporal's
 * history never holds access tokens or message text in plain text.
 *
 * The whole payload (its metadata and data) is encrypted into the data of a new payload whose
 * metadata says `encoding: binary/encrypted` and names the key (`encryption-key-id`), which is also
 * the cipher's associated data. Keys rotate by adding a new first key to PAYLOAD_CODEC_KEYS: new
 * payloads use it, older ones still decrypt with theirs. Payloads that are not encrypted (histories
 * from before the codec) pass through unchanged.
 */
/** Given to every workflow bundle too (bundleWorkflowCode), since workflows convert failures themselves. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

export interface CodecKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export class UnknownCodecKeyError extends Error {
  constructor(readonly keyId: string | undefined) {
    super(`no payload codec key ${JSON.stringify(keyId)} among PAYLOAD_CODEC_KEYS`);
    this.name = 'UnknownCodecKeyError';
  }
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: CodecKey;

  /** `keys[0]` encrypts; every key decrypts what was encrypted with it. */
  constructor(keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new Error(`payload codec key ${id} must be 32 bytes`);
    }
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(id, 'utf8'));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) }, data: new Uint8Array(sealed) };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = id === undefined ? undefined : this.byId.get(id);
    if (!key) throw new UnknownCodecKeyError(id);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('an encrypted payload too short to hold its IV and tag');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES)).setAAD(Buffer.from(id!, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plain) as Payload;
  }
}

/**
 * The data converter of every worker and client of the configured Temporal. Failures too: their
 * message and stack trace (which can quote a Meta answer) travel as an encoded attribute payload,
 * so the history holds only "Encoded failure" in plain text (./failure-converter).
 */
export function dataConverter(config: Pick<Config, 'PAYLOAD_CODEC_KEYS'>): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(config.PAYLOAD_CODEC_KEYS)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
