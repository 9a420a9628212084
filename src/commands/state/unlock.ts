/**
 * `builder state unlock [-force] LOCK_ID`: breaks one lock — a build lock, the whole-state lock or
 * the write lock — and only the one whose id matches (the id is printed by the error that reports
 * the lock). As `terraform force-unlock`: a lock whose holder is not known to be gone (alive, on
 * another host, or in another pid namespace) is only broken after a "yes" on the terminal, or
 * with -force; with neither, the command refuses and says how to go on.
 */
import type { Command } from '../../cli/command.js';
import { UsageError, UserError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { holderState } from '../../state/lock-holder.js';
import { askYesNo, locate, openState, STATE_FLAG_HELP, stateFlag } from './options.js';

export const stateUnlockCommand: Command = {
  name: ['state', 'unlock'],
  synopsis: 'Break a lock on the state',
  usage:
    'Usage: builder state unlock [options] [TEMPLATE] LOCK_ID\n\n' +
    '  Breaks the lock with this ID, whoever holds it. Only use it when the holder is gone (for example a\n' +
    '  run on another machine that was switched off): two runs working on one build can corrupt it.\n' +
    '  Unless its holder is known to be gone, it asks first (or refuses, with no terminal).\n\n' +
    `Options:\n\n  -force                 Do not ask for confirmation.\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, { ...stateFlag, force: { kind: 'bool' } });
    const { location, rest } = locate(flags, positional, ctx, { arity: 1 });
    if (rest.length !== 1) throw new UsageError('state unlock needs exactly one LOCK_ID');
    const m = await openState(location, ctx, { scoped: false });
    const id = rest[0]!;
    const held = (await m.locks()).find((l) => l.id === id);
    if (held && !flags.force && holderState(held) !== 'dead') {
      const holder = `${held.who} (pid ${held.pid}) for "${held.operation}" since ${held.created}`;
      if (!ctx.stdinIsTTY) {
        throw new UserError(
          'STATE_CONFIRMATION_NEEDED',
          `the lock ${id} on ${m.location} is held by ${holder}, which may still be running. There is no terminal to confirm on; ` +
            'if you are sure no one is using the state, run the command again with -force.',
        );
      }
      ctx.stderr.write(
        `Do you really want to break the lock ${id}?\n  It is held by ${holder}, which may still be running.\n` +
          '  Breaking it lets other runs change what that run is working on.\n',
      );
      if (!(await askYesNo(ctx, 'Break the lock?'))) {
        ctx.stderr.write(`Left the lock ${id} in place.\n`);
        return 1;
      }
    }
    const info = await m.unlock(id);
    const what = info.scope === 'build' ? `build "${info.build ?? ''}"` : info.scope === 'state' ? 'the whole state' : 'a state write';
    ctx.stdout.write(`Broke the lock ${info.id} on ${what} of ${m.location}, held by ${info.who} (pid ${info.pid}) for "${info.operation}" since ${info.created}.\n`);
    if (holderState(info) === 'alive') {
      ctx.stderr.write(`Warning: process ${info.pid} that held the lock is still running; it may go on writing to the state.\n`);
    }
    return 0;
  },
};
