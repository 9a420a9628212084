/**
 * Word wrapping as mitchellh/go-wordwrap v1's WrapString does it, which HCL's diagnostic text
 * writer uses (at 80 columns) for the detail of the diagnostics Packer 1.6.6 prints: breaks go at
 * white space only (a word longer than the limit stays whole), lengths count UTF-8 bytes, and
 * the white space at a break is dropped.
 */
const SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const len = (s: string): number => Buffer.byteLength(s, 'utf8');

export function goWrapString(s: string, lim: number): string {
  let buf = '';
  let current = 0;
  let word = '';
  let space = '';
  for (const ch of s) {
    if (ch === '\n') {
      if (word.length === 0) {
        if (current + len(space) > lim) current = 0;
        else buf += space;
      } else buf += space + word;
      space = '';
      word = '';
      buf += ch;
      current = 0;
    } else if (SPACE.test(ch)) {
      if (space.length === 0 || word.length > 0) {
        current += len(space) + len(word);
        buf += space + word;
        space = '';
        word = '';
      }
      space += ch;
    } else {
      word += ch;
      if (current + len(space) + len(word) > lim && len(word) < lim) {
        buf += '\n';
        current = 0;
        space = '';
      }
    }
  }
  if (word.length === 0) {
    if (current + len(space) <= lim) buf += space;
  } else buf += space + word;
  return buf;
}
