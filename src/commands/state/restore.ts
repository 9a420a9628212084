/**
 * `builder state restore`: puts the backup (the version before the last full write) back as the
 * state, after showing what it will replace. On a terminal it asks first; without one it needs
 * -force. A current state that cannot be read (the case the corrupt-state error sends users here
 * for) is moved aside to `<state>.corrupt-<time>` rather than deleted. The serial still grows.
 */
import type { Command, CommandContext } from '../../cli/command.js';
import { UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { StateCorruptError } from '../../state/errors.js';
import { StateManager } from '../../state/manager.js';
import type { StateFile } from '../../state/types.js';
import { FileStateClient } from '../../state/file/client.js';
import { backendOf } from '../../state/open.js';
import { askYesNo, locate, LOCK_FLAG_HELP, lockFlags, refuseArguments, STATE_FLAG_HELP, stateFlag, warner } from './options.js';
import { renameSync } from 'node:fs';
import { nodeFileSystem } from '../../state/file/fs.js';

/** One line per build that differs between the current state and the backup. */
export function describeReplacement(current: StateFile | undefined, backup: StateFile): string[] {
  const lines: string[] = [];
  const now = current?.builds ?? {};
  const keys = [...new Set([...Object.keys(now), ...Object.keys(backup.builds)])].sort();
  for (const k of keys) {
    const a = now[k];
    const b = backup.builds[k];
    if (a && !b) lines.push(`  - ${k} (${a.status}) is not in the backup: it will be forgotten`);
    else if (!a && b) lines.push(`  + ${k} (${b.status}) comes back`);
    else if (a && b && JSON.stringify(a) !== JSON.stringify(b)) lines.push(`  ~ ${k}: ${a.status} now, ${b.status} in the backup`);
  }
  return lines;
}

export const stateRestoreCommand: Command = {
  name: ['state', 'restore'],
  synopsis: 'Put the backup of the state back',
  usage:
    'Usage: builder state restore [options] [TEMPLATE]\n\n' +
    '  Replaces the state with its backup (<state>.backup, the version before the last full write),\n' +
    '  after showing what changes. An unreadable state is kept as <state>.corrupt-<time>.\n\n' +
    `Options:\n\n  -force                 Do not ask for confirmation (needed without a terminal).\n${STATE_FLAG_HELP}\n${LOCK_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, { ...stateFlag, ...lockFlags, force: { kind: 'bool' } });
    const { location, rest } = locate(flags, positional, ctx);
    refuseArguments(rest);
    const client = await backendOf(location).client(location, { onWarning: warner(ctx) });
    const backupName = client instanceof FileStateClient ? client.backupPath : `the backup of ${client.location}`;
    const backup = client.backup ? await client.backup() : undefined;
    if (!backup) throw new UserError('STATE_NO_BACKUP', `there is no backup of the state ${client.location} (${backupName} does not exist).`);
    const m = new StateManager({ client, lock: flags.lock, lockTimeoutMs: flags['lock-timeout'], onWarning: warner(ctx), signal: ctx.signal });
    let corrupt: StateCorruptError | undefined;
    let current: ReturnType<StateManager["snapshot"]> | undefined;
    try {
      await m.refresh();
      // Builds are decoded on first read, so a damaged build can surface here too.
      current = m.exists ? m.snapshot() : undefined;
    } catch (err) {
      if (!(err instanceof StateCorruptError)) throw err;
      corrupt = err;
    }
    ctx.stdout.write(`Restoring ${client.location} from ${backupName} (serial ${backup.serial}, ${Object.keys(backup.builds).length} build(s)).\n`);
    if (corrupt) ctx.stdout.write(`The current state cannot be read (${corrupt.fault}); it will be kept as ${client.location}.corrupt-<time>.\n`);
    else if (current) {
      const diff = describeReplacement(current, backup);
      ctx.stdout.write(diff.length === 0 ? 'The builds in the backup are the same as now.\n' : `It replaces the current state (serial ${current.serial}):\n${diff.join('\n')}\n`);
    }
    if (!(await confirmed(ctx, flags.force))) return 1;
    const lock = await m.lockState('state restore');
    try {
      if (corrupt && client instanceof FileStateClient) {
        const aside = `${client.location}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        // The serial never goes back: above the backup's, and above any the damaged file or its
        // journal still shows (else a stale copy could later be pushed without -force).
        const seen = highestSerialSeen([client.location, `${client.location}.journal`]);
        renameSync(client.location, aside);
        ctx.stdout.write(`Moved the unreadable state to ${aside}.\n`);
        await m.refresh();
        await m.replace({ ...backup, serial: Math.max(backup.serial, seen) + 1 }, { force: true });
      } else {
        await m.replace(backup, { force: true });
      }
    } finally {
      if (lock) await m.unlock(lock.id);
    }
    ctx.stdout.write(`Restored the state: serial ${m.serial}, ${m.buildKeys().length} build(s).\n`);
    await m.close();
    return 0;
  },
};

async function confirmed(ctx: CommandContext, force: boolean): Promise<boolean> {
  if (force) return true;
  if (!ctx.stdinIsTTY) {
    throw new UserError('STATE_CONFIRMATION_NEEDED', 'state restore asks before replacing the state, and there is no terminal to ask on. Run it with -force to restore anyway.');
  }
  if (await askYesNo(ctx, 'Replace the current state with the backup?')) return true;
  ctx.stderr.write('Nothing was changed.\n');
  return false;
}

/**
 * The highest `"serial":N` readable in these files (a damaged state file, its journal), 0 when
 * none: a damaged file cannot be decoded, but its serial is usually still there as text.
 */
const MAX_SCANNED_BYTES = 512 * 1024 * 1024;

function highestSerialSeen(files: readonly string[]): number {
  let highest = 0;
  for (const file of files) {
    let text: string;
    try {
      text = nodeFileSystem.readFile(file, MAX_SCANNED_BYTES).toString('latin1'); // no link followed, regular files only
    } catch {
      continue;
    }
    for (const m of text.matchAll(/"serial"\s*:\s*(\d{1,15})\b/g)) {
      const n = Number(m[1]);
      if (Number.isSafeInteger(n) && n > highest) highest = n;
    }
  }
  return highest;
}
