import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Business access tokens are sealed (AES-256-GCM) by the activity that receives them, so
 * workflow state and history only ever hold the sealed form; activities unseal just before use.
 * Format: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export function sealToken(token: string, keyBase64: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(keyBase64), iv);
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function unsealToken(sealed: string, keyBase64: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed token');
  const decipher = createDecipheriv('aes-256-gcm', key(keyBase64), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

function key(keyBase64: string): Buffer {
  const k = Buffer.from(keyBase64, 'base64');
  if (k.length !== 32) throw new Error('the token sealing key must be 32 bytes');
  return k;
}
