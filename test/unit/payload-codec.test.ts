/**
 * The payload codec: AES-256-GCM with the key id in the payload's metadata; rotation encrypts with
 * the new key and still decrypts what older keys encrypted.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, UnknownCodecKeyError } from '../../security/payload-codec';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const secretish = { accessToken: 'EAAG-secret-token-123', text: { body: 'Do you have it in blue?' } };

test('encrypts the whole payload, names the key, and decrypts it back', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const plain = defaultPayloadConverter.toPayload(secretish);
  const [sealed] = await codec.encode([plain]);
  expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
  expect(Buffer.from(sealed!.data!).toString('latin1')).not.toMatch(/EAAG|blue|json/);
  const [opened] = await codec.decode([sealed!]);
  expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(secretish);
  // Fresh IV each time: the same value never encrypts to the same bytes.
  const [again] = await codec.encode([plain]);
  expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);
});

test('rotation: new payloads use the new key, old ones still decrypt; a retired key no longer does', async () => {
  const [old, fresh] = [key('2026-11'), key('2026-12')];
  const before = new AesGcmPayloadCodec([old]);
  const [oldSealed] = await before.encode([defaultPayloadConverter.toPayload('before the rotation')]);

  const rotated = new AesGcmPayloadCodec([fresh, old]);
  expect(rotated.currentKeyId).toBe('2026-12');
  const [newSealed] = await rotated.encode([defaultPayloadConverter.toPayload('after the rotation')]);
  expect(text(newSealed!.metadata![KEY_ID_METADATA])).toBe('2026-12');
  const decoded = await rotated.decode([oldSealed!, newSealed!]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['before the rotation', 'after the rotation']);

  const retired = new AesGcmPayloadCodec([fresh]);
  await expect(retired.decode([oldSealed!])).rejects.toThrow(UnknownCodecKeyError);
});

test('plain payloads (histories from before the codec) pass through; tampering does not', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const plain = defaultPayloadConverter.toPayload({ a: 1 });
  expect(await codec.decode([plain])).toEqual([plain]);

  const [sealed] = await codec.encode([plain]);
  const flipped = Buffer.from(sealed!.data!);
  flipped[20] = flipped[20]! ^ 1;
  await expect(codec.decode([{ ...sealed!, data: new Uint8Array(flipped) }])).rejects.toThrow();
  // Another key under the same id does not open it.
  const other = new AesGcmPayloadCodec([key('k1')]);
  await expect(other.decode([sealed!])).rejects.toThrow();
  await expect(
    codec.decode([
      { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from('k1') }, data: new Uint8Array(3) },
    ]),
  ).rejects.toThrow(/too short/);
});
