// API key secrets: how they look, how they are hashed, how they are compared.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every TokenHub key starts with this. */
export const KEY_PREFIX = 'th-';

/** A new secret: `th-` and 32 random bytes in base64url. */
export function generateKeySecret(random: (n: number) => Buffer = randomBytes): string {
  return KEY_PREFIX + random(32).toString('base64url');
}

/** Hex SHA-256 of a secret; what the stores keep. One-shot `crypto.hash`: half the time of a Hash object, every request. */
export function hashKeySecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Compares two hex hashes in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token in `Authorization: Bearer <token>`, or null when the header is absent or of another scheme. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  return BEARER.exec(authorization)?.[1] ?? null;
}

/** The key in `Authorization: Bearer th-…`, or null when the header is absent or not of that form. */
export function bearerSecret(authorization: string | undefined): string | null {
  const secret = bearerToken(authorization);
  if (secret === null) return null;
  // 3 + 43 base64url characters; anything else cannot be ours, so skip the hash and the store.
  return secret.startsWith(KEY_PREFIX) && secret.length === 46 ? secret : null;
}
