/**
 * Template identity (ids, build keys and their inverse), the location resolver (precedence of
 * -state, BUILDER_STATE, BUILDER_STATE_PATH, the template's folder and the current one; workspaces
 * and their files; URLs), the hints built from a location, and the upgrade of version-2 states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { decodeState } from '../../src/state/format.js';
import { buildKey, parseBuildKey, templateId, templateIdOfRecordedPath, templateRef, templateRefFromArgument } from '../../src/state/identity.js';
import { commandFor, resolveStateLocation, stateRmCommand } from '../../src/state/location.js';
import { openState } from '../../src/state/open.js';
import { STATE_FORMAT_VERSION } from '../../src/state/types.js';
import { completeBuild, tempDir } from './helpers/fixtures.js';

test('a single-file template is its own template; a folder is one; ids do not depend on how the path was written', () => {
  assert.equal(templateId(templateRef({ path: 'tpl/ubuntu.pkr.hcl', root: 'tpl' }, '/w')), 'ubuntu.pkr.hcl');
  assert.equal(templateId(templateRef({ path: '/w/tpl/ubuntu.pkr.hcl', root: '/w/tpl' }, '/')), 'ubuntu.pkr.hcl');
  assert.equal(templateId(templateRef({ path: 'tpl', root: 'tpl' }, '/w')), '.');
  assert.equal(templateId(templateRef({ path: 'tpl/', root: 'tpl/' }, '/w')), '.');
  assert.equal(templateId(templateRef({ path: '.', root: '.' }, '/w/tpl')), '.');
});

test('build keys are <template id>/<build name> and split back at the first "/"', () => {
  assert.equal(buildKey('ubuntu.pkr.hcl', 'null.base'), 'ubuntu.pkr.hcl/null.base');
  assert.deepEqual(parseBuildKey('ubuntu.pkr.hcl/web/a.null.x'), { templateId: 'ubuntu.pkr.hcl', buildName: 'web/a.null.x' });
  assert.deepEqual(parseBuildKey('./null.base'), { templateId: '.', buildName: 'null.base' });
  assert.equal(parseBuildKey('null.base'), undefined);
  assert.throws(() => buildKey('a/b', 'x'));
});

test('a TEMPLATE argument of a state command: existing folders and files, or template file names; anything else is a build', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'tpl'));
  writeFileSync(join(dir, 'tpl', 'x.pkr.hcl'), '');
  assert.deepEqual(templateRefFromArgument('tpl', dir), { path: 'tpl', root: 'tpl', kind: 'folder' });
  assert.deepEqual(templateRefFromArgument('tpl/x.pkr.hcl', dir), { path: 'tpl/x.pkr.hcl', root: 'tpl', kind: 'file' });
  assert.deepEqual(templateRefFromArgument('gone.pkr.json', dir), { path: 'gone.pkr.json', root: '.', kind: 'file' });
  assert.equal(templateRefFromArgument('resume-demo.null.demo', dir), undefined);
});

test('the state: -state, then BUILDER_STATE, then BUILDER_STATE_PATH, then next to the template, then the current folder', () => {
  const template = templateRef({ path: 'tpl/t.pkr.hcl', root: 'tpl' }, '/w');
  const env = { BUILDER_STATE: '/s/env.json', BUILDER_STATE_PATH: '/s/old.json' };
  assert.equal(resolveStateLocation({ state: 'mine.json', template, env, cwd: '/w' }).path, '/w/mine.json');
  assert.equal(resolveStateLocation({ template, env, cwd: '/w' }).path, '/s/env.json');
  assert.equal(resolveStateLocation({ template, env: { BUILDER_STATE_PATH: '/s/old.json' }, cwd: '/w' }).path, '/s/old.json');
  const next = resolveStateLocation({ template, env: {}, cwd: '/w' });
  assert.equal(next.path, '/w/tpl/.packer.d/builder-state.json');
  assert.equal(next.from, 'template');
  assert.equal(next.template?.id, 't.pkr.hcl');
  assert.equal(resolveStateLocation({ env: {}, cwd: '/w' }).path, '/w/.packer.d/builder-state.json');
  assert.equal(resolveStateLocation({ state: 'file:///x/y.json', env: {}, cwd: '/w' }).path, '/x/y.json');
  const pg = resolveStateLocation({ state: 'postgresql://db/builder', env: {}, cwd: '/w', template });
  assert.equal(pg.backend, 'postgres');
  assert.equal(pg.environmentFile, '/w/tpl/.packer.d/environment');
});

test('workspaces: flag, then BUILDER_WORKSPACE, then the selection; the file backend keeps each under workspaces/NAME/', (t) => {
  const dir = tempDir(t);
  const template = templateRef({ path: 't.pkr.hcl', root: '.' }, dir);
  assert.equal(resolveStateLocation({ template, env: {}, cwd: dir }).workspace, 'default');
  mkdirSync(join(dir, '.packer.d'));
  writeFileSync(join(dir, '.packer.d', 'environment'), 'dev\n');
  const selected = resolveStateLocation({ template, env: {}, cwd: dir });
  assert.deepEqual([selected.workspace, selected.workspaceFrom], ['dev', 'selected']);
  assert.equal(selected.path, join(dir, '.packer.d', 'workspaces', 'dev', 'builder-state.json'));
  assert.equal(resolveStateLocation({ template, env: { BUILDER_WORKSPACE: 'ci' }, cwd: dir }).workspace, 'ci');
  assert.equal(resolveStateLocation({ template, workspace: 'prod', env: { BUILDER_WORKSPACE: 'ci' }, cwd: dir }).workspace, 'prod');
  assert.equal(resolveStateLocation({ state: '/s/x.json', workspace: 'prod', env: {}, cwd: dir }).path, '/s/workspaces/prod/x.json');
  assert.throws(() => resolveStateLocation({ workspace: '../etc', env: {}, cwd: dir }), (e: unknown) => e instanceof UserError && e.code === 'WORKSPACE_INVALID');
});

test('hints name the template as given, -state only when it was a flag, and any workspace but the default; quoted for a shell', () => {
  const template = templateRef({ path: 'my tpl/t.pkr.hcl', root: 'my tpl' }, '/w');
  assert.equal(stateRmCommand(resolveStateLocation({ template, env: {}, cwd: '/w' }), 'null.a'), "builder state rm 'my tpl/t.pkr.hcl' null.a");
  assert.equal(
    stateRmCommand(resolveStateLocation({ template, state: '../s.json', workspace: 'dev', env: {}, cwd: '/w' }), 'web'),
    "builder state rm -state=../s.json -workspace=dev 'my tpl/t.pkr.hcl' web",
  );
  assert.equal(commandFor(resolveStateLocation({ template, env: { BUILDER_STATE: '/s.json' }, cwd: '/w' }), ['state', 'list'], []), "builder state list 'my tpl/t.pkr.hcl'");
});

test('a version-2 state is upgraded: its builds move under the template its template.path names', () => {
  const v2 = (path: string) =>
    Buffer.from(
      JSON.stringify({
        version: 2,
        serial: 4,
        lineage: 'L',
        builder_version: '0.1.0',
        packer_version: '1.11.2',
        template: { path, hash: 'h', variables: { x: 1 }, files: {} },
        builds: { 'null.a': completeBuild('a') },
        last_run: null,
      }),
    );
  const opts = { file: 'state.json', requireChecksum: false };
  const file = decodeState(v2('tpl/ubuntu.pkr.hcl'), opts);
  assert.equal(file.version, STATE_FORMAT_VERSION);
  assert.deepEqual(Object.keys(file.builds), ['ubuntu.pkr.hcl/null.a']);
  assert.deepEqual(file.templates, { 'ubuntu.pkr.hcl': { path: 'tpl/ubuntu.pkr.hcl', hash: 'h', variables: { x: 1 }, files: {} } });
  assert.deepEqual(Object.keys(decodeState(v2('tpl/'), opts).builds), ['./null.a']);
  assert.equal(templateIdOfRecordedPath(''), '.');
});

test('openState scopes a manager to the location\'s template: plain names in, stored keys out', async (t) => {
  const dir = tempDir(t);
  const a = resolveStateLocation({ template: templateRef({ path: 'a.pkr.hcl', root: '.' }, dir), env: {}, cwd: dir });
  const b = resolveStateLocation({ template: templateRef({ path: 'b.pkr.hcl', root: '.' }, dir), env: {}, cwd: dir });
  const ma = await openState(a, { write: true });
  await ma.update('null.base', () => completeBuild('base'));
  await ma.setTemplate({ path: 'a.pkr.hcl', hash: 'h', variables: {}, files: {} });
  const lock = await ma.lockBuild('null.base', 'build');
  assert.equal(lock?.build, 'null.base');
  const mb = await openState(b, { write: true });
  assert.deepEqual(mb.buildKeys(), []);
  assert.ok(await mb.lockBuild('null.base', 'build'), 'the same build name of another template is another lock');
  await ma.close();
  await mb.close();
  const all = await openState(resolveStateLocation({ env: {}, cwd: dir }));
  assert.deepEqual(all.buildKeys(), ['a.pkr.hcl/null.base']);
  assert.deepEqual(Object.keys(all.snapshot().templates), ['a.pkr.hcl']);
});
