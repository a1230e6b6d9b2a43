/**
 * payload_hash (K3): lowercase hex sha256 of the RFC 8785 canonical JSON of a payload (K3).
 */
import canonicalize from 'canonicalize';
import { sha256Hex } from './contract-files.ts';

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

export function payloadHash(payload: unknown): string {
  return sha256Hex(canonicalJson(payload));
}
