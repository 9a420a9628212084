/**
 * Reads a component's evaluated configuration (plain JS data from the template layer) into typed
 * fields, collecting type errors in Packer's wording instead of throwing.
 */
export type Conv<T> = (v: unknown) => T | undefined;

export class ConfigReader {
  readonly errors: string[] = [];
  private readonly raw: Record<string, unknown>;

  constructor(raw: Record<string, unknown>) {
    this.raw = raw;
  }

  /** The field converted; undefined when absent or null. A value of the wrong type is an error. */
  get<T>(key: string, conv: Conv<T>): T | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    const out = conv(v);
    if (out === undefined) this.errors.push(`${key}: unexpected value ${JSON.stringify(v)}`);
    return out;
  }
}

export const asString: Conv<string> = (v) =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

export const asBool: Conv<boolean> = (v) =>
  typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;

export const asInt: Conv<number> = (v) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
};

export const asStringList: Conv<string[]> = (v) => {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(asString);
  return out.every((s) => s !== undefined) ? (out as string[]) : undefined;
};

export const asIntList: Conv<number[]> = (v) => {
  const list = Array.isArray(v) ? v : [v];
  const out = list.map(asInt);
  return out.every((n) => n !== undefined) ? (out as number[]) : undefined;
};

export const asStringMap: Conv<Record<string, string>> = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    const s = asString(x);
    if (s === undefined) return undefined;
    out[k] = s;
  }
  return out;
};
