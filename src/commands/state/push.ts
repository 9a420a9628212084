/**
 * `builder state push [-force] FILE|-`: replaces the state with a state file (or stdin). Any valid
 * state of the format is accepted (a checksum, when present, must match). Refused when the
 * lineage differs or the destination is newer (its serial is higher, or equal with different
 * content), unless -force. The serial never goes back; the replaced version is kept as the backup.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command, CommandContext } from '../../cli/command.js';
import { UsageError, UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { decodeState } from '../../state/format.js';
import { describeSystemError } from '../../state/errors.js';
import { locate, LOCK_FLAG_HELP, lockFlags, openState, STATE_FLAG_HELP, stateFlag } from './options.js';

async function readInput(source: string, ctx: CommandContext): Promise<Buffer> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const c of ctx.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(resolve(ctx.cwd, source));
  } catch (err) {
    throw new UserError('STATE_PUSH_UNREADABLE', `cannot read ${source}: ${describeSystemError(err)}.`);
  }
}

export const statePushCommand: Command = {
  name: ['state', 'push'],
  synopsis: 'Replace the state with a state file',
  usage:
    'Usage: builder state push [options] [TEMPLATE] FILE\n\n' +
    '  Replaces the state with FILE (or stdin when FILE is -). Refused when FILE is of another lineage\n' +
    '  or older than the current state, unless -force. The current version is kept as the backup.\n\n' +
    `Options:\n\n  -force                 Write even if the lineage differs or the current state is newer.\n${STATE_FLAG_HELP}\n${LOCK_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, { ...stateFlag, ...lockFlags, force: { kind: 'bool' } });
    const { location, rest } = locate(flags, positional, ctx, { arity: 1 });
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'state push needs the state file to push (or - for stdin)' : `state push takes one file, got ${rest.length}`);
    const source = rest[0]!;
    const next = decodeState(await readInput(source, ctx), { file: source === '-' ? 'the state on stdin' : source, requireChecksum: false });
    const m = await openState(location, ctx, { lock: flags.lock, lockTimeoutMs: flags['lock-timeout'], write: true, scoped: false });
    const lock = await m.lockState('state push');
    try {
      const changed = await m.replace(next, { force: flags.force });
      ctx.stdout.write(
        changed
          ? `Pushed the state to ${m.location}: serial ${m.serial}, lineage ${m.lineage}, ${m.buildKeys().length} build(s).\n`
          : `The state at ${m.location} already matches; nothing was written.\n`,
      );
    } finally {
      if (lock) await m.unlock(lock.id);
    }
    await m.close();
    return 0;
  },
};
