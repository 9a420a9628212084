/**
 * docs/design.md's "Layout" section is true: every folder it names exists, and every folder of
 * src/ is named there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './build/cli.js';

function layoutSection(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'design.md'), 'utf8');
  const start = doc.indexOf('## Layout');
  assert.ok(start >= 0, 'docs/design.md has a Layout section');
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

test('every folder the layout names exists, and every src/ folder is named', () => {
  const section = layoutSection();
  const named = new Set([...section.matchAll(/`(src\/[A-Za-z0-9_./-]+?)\/?`/g)].map((m) => m[1]!.replace(/\/$/, '')));
  const folders = [...named].filter((p) => !/\.[a-z]+$/.test(p));
  const files = [...named].filter((p) => /\.[a-z]+$/.test(p));
  assert.ok(folders.length >= 10, `the layout names the folders (${folders.join(', ')})`);
  for (const p of [...folders, ...files]) assert.ok(existsSync(join(repoRoot, p)), `${p} named in docs/design.md exists`);
  const top = readdirSync(join(repoRoot, 'src')).filter((n) => statSync(join(repoRoot, 'src', n)).isDirectory());
  for (const n of top) assert.ok(named.has(`src/${n}`), `src/${n} is named in docs/design.md's Layout section`);
  // Folders named by a relative name inside their parent's entry (`file/`, `legacy/`) exist too.
  for (const m of section.matchAll(/^- `(src\/[a-z-]+\/)`[^\n]*(?:\n {2}[^\n]*)*/gm)) {
    for (const sub of m[0].matchAll(/`([a-z-]+)\/`/g)) assert.ok(existsSync(join(repoRoot, m[1]!, sub[1]!)), `${m[1]}${sub[1]}/ exists`);
  }
});
