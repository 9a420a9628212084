/**
 * The secret key of a local file state, `<state>.key`: 32 random bytes (hex), mode 0600, beside
 * the state and never inside it. Sensitive values are recorded in the state only as tokens keyed
 * by it (src/state/sensitive.ts), so whoever reads the state file, a backup or a `state pull`
 * cannot test guesses of a low-entropy secret against them without also reading this file.
 *
 * Contracts:
 * - Created on first use, appearing whole (written to a temporary file of a random name, created
 *   exclusively, then hard-linked to its name), so two processes creating it at once agree on one.
 * - Opened like every state file (no link followed, regular files only); a key file of the wrong
 *   size is reported, never replaced (a new key would make every sensitive value look changed).
 * - The state folder is created (0700) when missing, as the state's first write would; when it
 *   cannot be, the key returned is ephemeral (no state can be recorded there to compare with).
 */
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { StateAccessError } from '../errors.js';
import { isErrno, type FileSystem } from './fs.js';

const KEY_HEX = 64;

export function stateSecretKey(fs: FileSystem, statePath: string): string {
  const file = `${statePath}.key`;
  for (let attempt = 0; ; attempt++) {
    try {
      const text = fs.readFile(file, 1024).toString('utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(text)) {
        throw new StateAccessError(file, 'read the secret key of the state', Object.assign(new Error(`it does not hold ${KEY_HEX} hex digits (damaged? restore it, or remove it: every sensitive value will then count as changed once)`), { code: 'EBADKEY' }));
      }
      return text;
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || attempt > 0) throw err instanceof StateAccessError ? err : new StateAccessError(file, 'read the secret key of the state', err);
    }
    const key = randomBytes(KEY_HEX / 2).toString('hex');
    try {
      fs.statFollowing(dirname(statePath));
    } catch {
      try {
        fs.mkdir(dirname(statePath), 0o700); // as the state's first write would
      } catch {
        return key; // a folder that cannot be made: nothing recorded to compare with
      }
    }
    const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = fs.open(temp, 'wx', 0o600);
      try {
        fs.write(fd, Buffer.from(`${key}\n`));
        fs.fsync(fd);
      } finally {
        fs.close(fd);
      }
      try {
        fs.link(temp, file);
        return key;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err; // another process created it first: read theirs
      }
    } catch (err) {
      throw new StateAccessError(file, 'create the secret key of the state', err);
    } finally {
      try {
        fs.unlink(temp);
      } catch {
        // not created, or already gone
      }
    }
  }
}
