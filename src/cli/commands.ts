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

export const commands: readonly Command[] = [
  versionCommand,
  fmtCommand,
  validateCommand,
  inspectCommand,
  consoleCommand,
  buildCommand,
];
