/**
 * Quoting of remote paths for the POSIX shell that runs SSH commands on the remote machine.
 *
 * Contract: the result, pasted into a `sh -c` command line, names exactly the given path — the
 * shell expands nothing in it except, where asked, a leading `~` / `~/` (home directory) and the
 * glob characters `*`, `?`, `[`, `]`. User values never reach the shell unquoted.
 */

/** Single-quotes `text` for a POSIX shell: `it's` → `'it'"'"'s'` (Packer's own escaping). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

/** Quotes a remote path, leaving a leading `~` or `~/` unquoted so the shell expands it. */
export function quoteRemotePath(path: string): string {
  const { prefix, rest } = splitTilde(path);
  return rest === '' && prefix !== '' ? prefix : prefix + shellQuote(rest);
}

/** Splits off a leading `~` or `~/`, which must stay unquoted (with its slash) for the shell to
 * expand it. */
function splitTilde(path: string): { prefix: string; rest: string } {
  if (path === '~') return { prefix: '~', rest: '' };
  if (path.startsWith('~/')) return { prefix: '~/', rest: path.slice(2) };
  return { prefix: '', rest: path };
}

/** Quotes a remote path pattern: like `quoteRemotePath`, but the glob characters `*?[]` stay
 * unquoted so that the remote shell expands them (Packer's download of `dir/*`). */
export function quoteRemoteGlob(pattern: string): string {
  const { prefix, rest } = splitTilde(pattern);
  const parts = rest.split(/([*?[\]])/).filter((p) => p !== '');
  return prefix + parts.map((p) => (/^[*?[\]]$/.test(p) ? p : shellQuote(p))).join('');
}

/** True when a remote path contains glob characters, the way Packer's file provisioner decides. */
export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}
