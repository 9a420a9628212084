/** Temporary folders and sample records for the state tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { newBuild, newStep, type BuildState } from '../../../src/state/types.js';

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'builder-state-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A complete build with `provisioners` shell steps, one post-processor and one artifact. */
export function completeBuild(name: string, provisioners = 3): BuildState {
  const t = '2026-11-25T10:00:00Z';
  const b = newBuild(name, 'null');
  b.status = 'complete';
  b.fingerprint = `fp-${name}`;
  b.started_at = t;
  b.completed_at = t;
  b.instance = { id: `i-${name}`, builder_id: 'packer.null', provider: 'null', created_at: t, metadata: { host: '127.0.0.1', port: 22 }, keep_on_failure: false };
  for (let i = 0; i < provisioners; i++) {
    b.provisioners.push({ ...newStep('shell', `step-${i}`), status: 'complete', fingerprint: `f${i}`, attempts: 1, started_at: t, ended_at: t });
  }
  b.post_processors.push({ ...newStep('manifest'), status: 'complete', attempts: 1, started_at: t, ended_at: t });
  b.artifacts.push({ id: `art-${name}`, builder_id: 'packer.null', type: 'null', files: ['out/image.img'], metadata: { region: 'local' }, hash: '' });
  return b;
}
