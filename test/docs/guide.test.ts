/**
 * docs/guide.md lists the components builder has, generated from the registries
 * (src/component-list.ts): this fails when the list drifts from the code. Refresh it with
 * `npm run build && node dist/scripts/update-guide.js`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentListMarkdown, GUIDE_BEGIN, GUIDE_END, replaceComponentList } from '../../src/component-list.js';
import { nativeComponents } from '../../src/components.js';
import { repoRoot } from '../build/cli.js';

const guide = (): string => readFileSync(join(repoRoot, 'docs', 'guide.md'), 'utf8');

test("the guide's component list is the registries' (run node dist/scripts/update-guide.js after adding a component)", () => {
  const text = guide();
  const begin = text.indexOf(GUIDE_BEGIN);
  const end = text.indexOf(GUIDE_END);
  assert.ok(begin >= 0 && end > begin, 'docs/guide.md has the COMPONENTS markers');
  const listed = text.slice(begin + GUIDE_BEGIN.length, end).trim();
  assert.equal(listed, componentListMarkdown(nativeComponents()));
});

test('the list names every registered type of every kind, and only those', () => {
  const c = nativeComponents();
  const list = componentListMarkdown(c);
  for (const [kind, reg] of [['Builders', c.builders], ['Provisioners', c.provisioners], ['Post-processors', c.postProcessors], ['Communicators', c.communicators]] as const) {
    const line = list.split('\n').find((l) => l.startsWith(`- **${kind}**`));
    assert.ok(line, kind);
    assert.deepEqual([...line.matchAll(/`([a-z0-9-]+)`(?! "| =)/g)].map((m) => m[1]).filter((n) => n !== 'TYPE'), reg.keys(), kind);
  }
  assert.match(list, /`docker` \(resumes on a kept instance\)/);
  assert.equal(replaceComponentList('no markers', list), undefined);
});

test('the guide covers state, CI and the differences from Packer', () => {
  const text = guide();
  for (const heading of ['## Installing', '## Components', '## State: what it is and where it lives', '## CI recipes', '## Deliberate differences from Packer']) {
    assert.ok(text.includes(`\n${heading}\n`), heading);
  }
  for (const topic of ['-state=', 'BUILDER_STATE', 'workspace', 'postgres://', 'Node.js 20']) assert.ok(text.includes(topic), topic);
});
