/**
 * Rewrites the component list of docs/guide.md from the registries (src/component-list.ts):
 * `npm run build && node dist/scripts/update-guide.js`. test/docs/guide.test.ts fails until the
 * guide is up to date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { componentListMarkdown, replaceComponentList } from '../src/component-list.js';
import { nativeComponents } from '../src/components.js';

const guide = fileURLToPath(new URL('../../docs/guide.md', import.meta.url));
const text = readFileSync(guide, 'utf8');
const updated = replaceComponentList(text, componentListMarkdown(nativeComponents()));
if (updated === undefined) {
  process.stderr.write(`${guide} has no component list markers\n`);
  process.exit(1);
}
if (updated !== text) writeFileSync(guide, updated);
process.stdout.write(`${updated === text ? 'up to date' : 'updated'}: ${guide}\n`);
