/** UUID functions (go-cty-funcs' uuid package): uuidv4, uuidv5. */
import { randomUUID } from 'node:crypto';
import type * as Uuid from 'uuid';
import { T, Value } from '../values/value.js';
import { define, param } from './support.js';
import { FunctionError } from './types.js';
import { lazyRequire } from '../lazy-require.js';

/** The uuid package, loaded when `uuidv5` first runs. */
const uuid = lazyRequire<typeof Uuid>('uuid');

const NAMESPACES: Record<string, string> = {
  dns: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  url: '6ba7b811-9dad-11d1-80b4-00c04fd430c8',
  oid: '6ba7b812-9dad-11d1-80b4-00c04fd430c8',
  x500: '6ba7b814-9dad-11d1-80b4-00c04fd430c8',
};

export const uuidv4 = define({
  params: [],
  returnType: T.string,
  impl: () => Value.string(randomUUID()),
});

/** Parses a namespace UUID as google/uuid does (also accepting `{…}` and `urn:uuid:` forms). */
function parseNamespace(s: string): string {
  let u = s;
  if (u.length === 45 && u.toLowerCase().startsWith('urn:uuid:')) u = u.slice(9);
  else if (u.length === 38 && u.startsWith('{') && u.endsWith('}')) u = u.slice(1, -1);
  else if (u.length === 32 && /^[0-9a-fA-F]{32}$/.test(u)) u = u.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  else if (u.length !== 36) throw new FunctionError(`uuidv5() doesn't support namespace ${s} (invalid UUID length: ${Buffer.byteLength(s)})`);
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(u)) {
    throw new FunctionError(`uuidv5() doesn't support namespace ${s} (invalid UUID format)`);
  }
  return u.toLowerCase();
}

export const uuidv5 = define({
  params: [param('namespace', T.string), param('name', T.string)],
  returnType: T.string,
  impl: ([ns, name]) => {
    const n = ns!.asString();
    const namespace = NAMESPACES[n] ?? parseNamespace(n);
    return Value.string(uuid().v5(name!.asString(), namespace));
  },
});
