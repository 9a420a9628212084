/**
 * Keeping secrets out of the state: the values of sensitive variables are recorded only as salted
 * hashes, so a run can still tell that a secret changed without the state revealing it.
 *
 * The salt is the state's (StateManager.saltFor): its lineage — stable for the life of a state (so
 * equal secrets give equal hashes from run to run, and fingerprints compare), different between
 * states — plus, when the backend keeps one, the state's secret key (the file backend's
 * `<state>.key`, 0600, never inside the state). The hash is keyed by the salt (secretDigest): a
 * salt made of the lineage alone (which the state holds) let a low-entropy secret (a PIN, a short password) be recovered from its HMAC by trying every candidate (issue 15).
 * With the key, HMAC-SHA256 keyed by lineage and key (guesses cannot be tried without the key);
 * without one (PostgreSQL, memory backends), scrypt, so that each guess costs a scrypt.
 */
import { createHmac, scryptSync } from 'node:crypto';
import type { JsonValue } from './types.js';

const PREFIX = 'sensitive:v2:';
/** Recorded by builder before the state's key: still recognised as a hash (never as a value). */
const OLD_PREFIX = 'sensitive:hmac-sha256:';
/** scrypt cost: 2^14 × 8 × 128 bytes = 16 MiB and tens of milliseconds per distinct secret. */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Tokens already computed in this process, by salt and secret (each costs a scrypt). Bounded. */
const cache = new Map<string, string>();

/** What StateManager.saltFor puts between the lineage and the state's secret key. */
export const KEY_SEPARATOR = '\u0000key:';

/**
 * The keyed hash (hex) of `secret` under `salt`, cached in this process: HMAC-SHA256 when the salt
 * holds the state's secret key (guesses cannot be tried without it, and scrypt cost every build
 * run about 0.1 s per sensitive string), scrypt when the salt is the lineage alone (which the
 * state holds: each guess then costs a scrypt).
 */
export function secretDigest(secret: string, salt: string): string {
  const key = `${salt}\u0000${secret}`;
  let digest = cache.get(key);
  if (digest === undefined) {
    digest = salt.includes(KEY_SEPARATOR)
      ? createHmac('sha256', salt).update(secret).digest('hex')
      : scryptSync(secret, salt, 32, SCRYPT).toString('hex');
    if (cache.size >= 1024) cache.clear();
    cache.set(key, digest);
  }
  return digest;
}

/** A salted hash of a value (canonical JSON), for the state and for fingerprints. */
export function saltedHash(value: JsonValue, salt: string): string {
  return PREFIX + secretDigest(canonicalJson(value), salt);
}

/** True when a recorded value is a salted hash made by saltedHash (or by an older builder). */
export function isSaltedHash(value: JsonValue): boolean {
  return typeof value === 'string' && (value.startsWith(PREFIX) || value.startsWith(OLD_PREFIX));
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
