/**
 * `builder state unlock LOCK_ID`: breaks one lock — a build lock, the whole-state lock or the
 * write lock — and only the one whose id matches (the id is printed by the error that reports
 * the lock). A lock's holder may still be running; the command says so when it can tell.
 */
import type { Command } from '../../cli/command.js';
import { UsageError } from '../../errors.js';
import { parseFlags } from '../../cli/flags.js';
import { holderState } from '../../state/lock-holder.js';
import { locate, openState, STATE_FLAG_HELP, stateFlag } from './options.js';

export const stateUnlockCommand: Command = {
  name: ['state', 'unlock'],
  synopsis: 'Break a lock on the state',
  usage:
    'Usage: builder state unlock [options] [TEMPLATE] LOCK_ID\n\n' +
    '  Breaks the lock with this ID, whoever holds it. Only use it when the holder is gone (for example a\n' +
    '  run on another machine that was switched off): two runs working on one build can corrupt it.\n\n' +
    `Options:\n\n${STATE_FLAG_HELP}`,
  async run(args, ctx) {
    const { flags, args: positional } = parseFlags(args, stateFlag);
    const { location, rest } = locate(flags, positional, ctx, { arity: 1 });
    if (rest.length !== 1) throw new UsageError('state unlock needs exactly one LOCK_ID');
    const m = await openState(location, ctx, { scoped: false });
    const info = await m.unlock(rest[0]!);
    const what = info.scope === 'build' ? `build "${info.build ?? ''}"` : info.scope === 'state' ? 'the whole state' : 'a state write';
    ctx.stdout.write(`Broke the lock ${info.id} on ${what} of ${m.location}, held by ${info.who} (pid ${info.pid}) for "${info.operation}" since ${info.created}.\n`);
    if (holderState(info) === 'alive') {
      ctx.stderr.write(`Warning: process ${info.pid} that held the lock is still running; it may go on writing to the state.\n`);
    }
    return 0;
  },
};
