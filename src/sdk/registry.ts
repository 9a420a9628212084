/**
 * One registry for every kind of component (builders, communicators, provisioners,
 * post-processors): type name → definition, refusing a name registered twice. The registries of
 * one run are passed around together as `Components` (src/components.ts), the way Packer injects
 * its component finders: the bind pass, validate and the build take them as an argument, so a run
 * with plugin components (or a test with a test builder) needs no global change.
 */
export class Registry<T extends { type: string }> implements Iterable<T> {
  readonly kind: string;
  private readonly byType = new Map<string, T>();

  /** `kind` names the component kind in messages ("builder", "post-processor", …). */
  constructor(kind: string, defs: Iterable<T> = []) {
    this.kind = kind;
    for (const def of defs) this.add(def);
  }

  get(type: string): T | undefined {
    return this.byType.get(type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  /** The type names, in registration order. */
  keys(): string[] {
    return [...this.byType.keys()];
  }

  [Symbol.iterator](): Iterator<T> {
    return this.byType.values();
  }

  /**
   * A new registry with `extra` added: where a type is in both, `preferExtra(type)` says whether
   * the extra definition replaces this one (a plugin the template asks for), else this one stays.
   */
  with(extra: Iterable<T>, preferExtra: (type: string) => boolean = () => false): Registry<T> {
    const out = new Registry<T>(this.kind, this);
    for (const def of extra) {
      if (!out.byType.has(def.type) || preferExtra(def.type)) out.byType.set(def.type, def);
    }
    return out;
  }

  private add(def: T): void {
    if (this.byType.has(def.type)) throw new Error(`${this.kind} type "${def.type}" registered twice`);
    this.byType.set(def.type, def);
  }
}
