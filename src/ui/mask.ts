/**
 * Masks sensitive values in output as `<sensitive>`, as Packer's secret filter does. Longer values
 * are replaced first so that a secret containing another is masked whole. Empty strings are
 * never masked. A multi-line secret is also masked line by line (each of its lines with
 * non-blank text): output is written and read in lines, so a step printing a private key or a
 * certificate showed every line of it in clear when only the whole text was masked.
 */
export class Masker {
  private secrets: string[] = [];
  private readonly known = new Set<string>();

  add(values: Iterable<string>): void {
    let changed = false;
    const addOne = (v: string): void => {
      if (v === '' || this.known.has(v)) return;
      this.known.add(v);
      this.secrets.push(v);
      changed = true;
    };
    for (const v of values) {
      addOne(v);
      if (v.includes('\n')) for (const line of v.split(/\r?\n/)) if (line.trim() !== '') addOne(line);
    }
    if (changed) this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.replaceAll(s, '<sensitive>');
    return out;
  }
}
