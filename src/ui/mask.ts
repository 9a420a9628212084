/**
 * Masks sensitive values in output as `<sensitive>`, as Packer's secret filter does. Longer values
 * are replaced first so that a secret containing another is masked whole. Empty strings are
 * never masked.
 */
export class Masker {
  private secrets: string[] = [];

  add(values: Iterable<string>): void {
    let changed = false;
    for (const v of values) {
      if (v === '' || this.secrets.includes(v)) continue;
      this.secrets.push(v);
      changed = true;
    }
    if (changed) this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.replaceAll(s, '<sensitive>');
    return out;
  }
}
