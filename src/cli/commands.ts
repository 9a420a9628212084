/**
 * The command table. Each command lives in its own file under src/commands/ and is listed here
 * once; `main.ts` picks the longest match of command words.
 */
import type { Command } from './command.js';
import { versionCommand } from '../commands/version.js';
import { fmtCommand } from '../commands/fmt.js';
import { validateCommand } from '../commands/validate.js';
import { inspectCommand } from '../commands/inspect.js';
import { consoleCommand } from '../commands/console.js';
import { buildCommand } from '../commands/build.js';
import { stateCommand } from '../commands/state/state.js';
import { stateListCommand } from '../commands/state/list.js';
import { stateShowCommand } from '../commands/state/show.js';
import { stateRmCommand } from '../commands/state/rm.js';
import { statePullCommand } from '../commands/state/pull.js';
import { statePushCommand } from '../commands/state/push.js';
import { stateUnlockCommand } from '../commands/state/unlock.js';
import { stateRestoreCommand } from '../commands/state/restore.js';

export const commands: readonly Command[] = [
  versionCommand,
  fmtCommand,
  validateCommand,
  inspectCommand,
  consoleCommand,
  buildCommand,
  stateCommand,
  stateListCommand,
  stateShowCommand,
  stateRmCommand,
  statePullCommand,
  statePushCommand,
  stateUnlockCommand,
  stateRestoreCommand,
];
