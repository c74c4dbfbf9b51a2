import { createHash } from 'node:crypto';

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/**
 * The SHA256 fingerprint of an SSH public key blob, in the form `ssh-keygen -lf` prints
 * (`SHA256:` + unpadded base64).
 *
 * @example
 * const fp = sha256Fingerprint(hostKeyBlob); // 'SHA256:3Vx…'
 */
export function sha256Fingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Normalizes a pinned fingerprint (`SHA256:<base64>`, with or without `=` padding) or returns
 * `undefined` when it is not one.
 *
 * @example
 * normalizeFingerprint('SHA256:abc…=') // 'SHA256:abc…'
 */
export function normalizeFingerprint(value: string): string | undefined {
  const m = FINGERPRINT.exec(value.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}
