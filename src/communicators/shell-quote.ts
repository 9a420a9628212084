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
  const tilde = /^~(?=\/|$)/.exec(path);
  if (tilde === null) return shellQuote(path);
  const rest = path.slice(1);
  return rest === '' ? '~' : `~${shellQuote(rest)}`;
}

/** Quotes a remote path pattern: like `quoteRemotePath`, but the glob characters `*?[]` stay
 * unquoted so that the remote shell expands them (Packer's download of `dir/*`). */
export function quoteRemoteGlob(pattern: string): string {
  let prefix = '';
  let rest = pattern;
  if (/^~(?=\/|$)/.test(pattern)) {
    prefix = '~';
    rest = pattern.slice(1);
  }
  const parts = rest.split(/([*?[\]])/).filter((p) => p !== '');
  return prefix + parts.map((p) => (/^[*?[\]]$/.test(p) ? p : shellQuote(p))).join('');
}

/** True when a remote path contains glob characters, the way Packer's file provisioner decides. */
export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}
