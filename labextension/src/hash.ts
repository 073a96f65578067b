/**
 * SHA-256 of a suggestion's code, as the kernel computes it (`sha256(code.encode())`).
 *
 * Synchronous and independent of `crypto.subtle`, which browsers only offer on
 * secure origins, while JupyterLab is often served over plain http on a LAN.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(text)));
}
