/**
 * The state folder must be trusted before builder writes to it: a folder that another user owns,
 * or that anyone may write to, lets that user plant files and links at the names builder uses
 * (journal, backup, locks) and so redirect or forge a state write — of a build running as root,
 * perhaps. Such a folder is refused with a message naming the fix. A group-writable folder is
 * accepted (a team sharing a state through a group is a use case); its members are trusted, and
 * every file is opened without following links anyway (src/state/file/fs.ts).
 *
 * Accepted owners: the user builder runs as, and root (a root-owned folder that others cannot
 * write to can only be changed by root, who is trusted anyway).
 */
import { UserError } from '../../errors.js';
import { shellQuote } from '../errors.js';
import { isErrno, type FileSystem } from './fs.js';

export class StateFolderUnsafeError extends UserError {
  constructor(folder: string, why: string, fix: string) {
    super(
      'STATE_FOLDER_UNSAFE',
      `refusing to use the state folder ${folder}: ${why}. Another user could replace the state, its journal or its ` +
        `locks with links to other files. ${fix}`,
    );
  }
}

/** Throws StateFolderUnsafeError when `folder` exists and is not safe (see the module comment). */
export function checkStateFolder(fs: FileSystem, folder: string, uid = currentUid()): void {
  if (uid === undefined) return; // not a POSIX system: no owners to compare
  let st;
  try {
    st = fs.stat(folder);
    if ((st.mode & 0o170000) === 0o120000) st = fs.statFollowing(folder); // the folder may be a link the user made
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return; // created by builder, 0700
    throw err;
  }
  if (st.uid !== uid && st.uid !== 0) {
    throw new StateFolderUnsafeError(
      folder,
      `it belongs to another user (uid ${st.uid}; builder runs as uid ${uid})`,
      `Keep the state in a folder of your own (-state=PATH), or have the folder's owner run the command.`,
    );
  }
  if ((st.mode & 0o002) !== 0) {
    throw new StateFolderUnsafeError(
      folder,
      `anyone may write to it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`,
      `Keep the state in a folder of its own, or remove write access for others:\n\n  chmod o-w ${shellQuote(folder)}`,
    );
  }
}

function currentUid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}
