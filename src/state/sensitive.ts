/**
 * Keeping secrets out of the state: the values of sensitive variables are recorded only as salted
 * hashes, so a run can still tell that a secret changed without the state revealing it.
 *
 * The salt is the state's lineage: stable for the life of a state (so equal secrets give equal
 * hashes from run to run, and fingerprints compare), different between states (so one state's
 * hashes say nothing about another's). The hash is HMAC-SHA256 keyed by the salt.
 */
import { createHmac } from 'node:crypto';
import type { JsonValue } from './types.js';

const PREFIX = 'sensitive:hmac-sha256:';

/** A salted hash of a value (canonical JSON), for the state and for fingerprints. */
export function saltedHash(value: JsonValue, salt: string): string {
  return PREFIX + createHmac('sha256', salt).update(canonicalJson(value)).digest('hex');
}

/** True when a recorded value is a salted hash made by saltedHash. */
export function isSaltedHash(value: JsonValue): boolean {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** Variable values as the state records them: every name in `sensitive` replaced by its salted hash. */
export function recordVariables(
  values: Readonly<Record<string, JsonValue>>,
  sensitive: ReadonlySet<string>,
  salt: string,
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(values)) out[name] = sensitive.has(name) ? saltedHash(value, salt) : value;
  return out;
}

/**
 * JSON with object keys sorted, so equal values hash equally whatever their key order. `undefined`
 * (a value only known while a build runs, in configurations being fingerprinted) is written as a
 * fixed marker no JSON value can produce.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '"\u0000unknown"';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}
