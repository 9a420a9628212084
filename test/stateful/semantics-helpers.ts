/** Shared by the stateful-build semantics tests: a temp folder with templates, the CLI, the state. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, type CliResult } from '../build/cli.js';
import type { BuildState, StateFile } from '../../src/state/types.js';

export { runCli, startCli, type CliResult };

export interface Workdir {
  dir: string;
  write(name: string, text: string): Promise<void>;
  /** `builder build ARGS` in the folder. */
  build(...args: string[]): Promise<CliResult>;
  /** The lines a file holds ([] when it does not exist). */
  lines(name: string): Promise<string[]>;
  /** `builder state pull`, parsed. */
  state(): Promise<StateFile>;
  /** One build of `builder state show -json BUILD`, parsed. */
  buildState(name: string): Promise<BuildState>;
}

export async function inWorkdir(fn: (w: Workdir) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-stateful-'));
  const w: Workdir = {
    dir,
    write: (name, text) => writeFile(join(dir, name), text),
    build: (...args) => runCli(['build', ...args], dir),
    lines: async (name) => (await readFile(join(dir, name), 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
    state: async () => {
      const r = await runCli(['state', 'pull'], dir);
      if (r.code !== 0) throw new Error(`state pull failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as StateFile;
    },
    buildState: async (name) => {
      const r = await runCli(['state', 'show', '-json', name], dir);
      if (r.code !== 0) throw new Error(`state show failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as BuildState;
    },
  };
  try {
    await fn(w);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fails with the whole output of the run when it did not exit with `code`. */
export function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
}

/** The statuses of a build's provisioners, in order. */
export function provisionerStatuses(b: BuildState): string[] {
  return b.provisioners.map((p) => p.status);
}
