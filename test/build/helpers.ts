/** Test helpers for the build engine: captured UI output and step contexts in temp folders. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { StepContext } from '../../src/sdk/component.js';
import { RunUi, type TargetedUi } from '../../src/ui/ui.js';

/** A Writable that keeps what was written. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  }
}

export interface TestUi {
  out: Capture;
  run: RunUi;
  ui: TargetedUi;
}

export function testUi(name = 'null.a', opts: Partial<{ color: boolean; timestamp: boolean; machineReadable: boolean }> = {}): TestUi {
  const out = new Capture();
  const run = new RunUi({
    out,
    color: opts.color ?? false,
    timestamp: opts.timestamp ?? false,
    machineReadable: opts.machineReadable ?? false,
    now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  });
  return { out, run, ui: run.build(name, 0) };
}

/** A step context in `cwd` with captured output. */
export function stepContext(cwd: string, t: TestUi, signal = new AbortController().signal): StepContext {
  return {
    ui: t.ui,
    signal,
    buildName: 'null.a',
    builderType: 'null',
    runUuid: '11111111-2222-3333-4444-555555555555',
    cwd,
    env: { ...process.env, PACKER_BUILD_NAME: 'a', PACKER_BUILDER_TYPE: 'null', PACKER_RUN_UUID: '11111111-2222-3333-4444-555555555555' },
    sensitive: [],
  };
}

/** Runs `fn` in a fresh temp folder, removed afterwards. */
export async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
