/**
 * A stand-in for builder running one step: `node run-step.js CMD ARGS…` runs the command with
 * runLocal and prints its output lines. Tests SIGKILL this process mid-step.
 */
import { runLocal } from '../../../src/sdk/process.js';

const argv = process.argv.slice(2);
await runLocal(
  { argv, cwd: process.cwd(), env: process.env, onStdout: (l) => process.stdout.write(`${l}\n`), onStderr: (l) => process.stderr.write(`${l}\n`) },
  new AbortController().signal,
);
