/** Describes a failed file-system call the way Go prints it, e.g.
 * "stat foo.sh: no such file or directory" (Packer's "Bad script" and "Bad source" messages). */
export function goFsError(op: string, path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  const reason = (code !== undefined ? reasons[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return `${op} ${path}: ${reason}`;
}
