/**
 * `state pull` / `state push` between the file backend and PostgreSQL (Terraform's
 * `init -migrate-state`), through the CLI as processes: a state built on files is pulled, pushed
 * to PostgreSQL (lineage and serial kept; the builds there are then up to date), worked on there,
 * and moved back to files; the usual checks hold across backends — a state of another lineage or
 * an older serial is refused without -force, one that is the same is "already matches".
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { StateFile } from '../../src/state/types.js';
import { postgresTestFile } from '../helpers/postgres.js';
import { expectExit, inWorkdir, runCli } from '../stateful/semantics-helpers.js';

const { cluster, pgTest } = postgresTestFile();

const TEMPLATE = `source "null" "a" { communicator = "none" }
source "null" "b" { communicator = "none" }
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" { inline = ["echo $PACKER_BUILD_NAME >> steps.log"] }
}
`;

pgTest('state moves from files to PostgreSQL and back with its lineage and serial; lineage and serial checks hold across backends', async () => {
  await inWorkdir(async (w) => {
    const pgState = `-state=${cluster().url}`;
    const fileState = `-state=${join(w.dir, 'back', 'builder-state.json')}`;
    await w.write('t.pkr.hcl', TEMPLATE);
    expectExit(await w.build('t.pkr.hcl'), 0);
    const onFiles = await w.state();

    // file → postgres
    const pulled = await runCli(['state', 'pull'], w.dir);
    expectExit(pulled, 0);
    await w.write('s.json', pulled.stdout);
    const push = await runCli(['state', 'push', pgState, 's.json'], w.dir);
    expectExit(push, 0);
    assert.match(push.stdout, new RegExp(`Pushed the state to postgres://[^ ]+: serial ${onFiles.serial}, lineage ${onFiles.lineage}, 2 build\\(s\\)`));
    const inPg = JSON.parse((await runCli(['state', 'pull', pgState], w.dir)).stdout) as StateFile;
    assert.equal(inPg.lineage, onFiles.lineage);
    assert.equal(inPg.serial, onFiles.serial);
    assert.deepEqual(inPg.builds, onFiles.builds, 'every build record arrived as it was');
    const again = await runCli(['state', 'push', pgState, 's.json'], w.dir);
    expectExit(again, 0);
    assert.match(again.stdout, /already matches; nothing was written/);

    // The builds are up to date on PostgreSQL: the state moved, the work is not redone.
    const built = await w.build(pgState, 't.pkr.hcl');
    expectExit(built, 0);
    assert.equal((built.stdout.match(/Up to date: /g) ?? []).length, 2);
    assert.deepEqual((await w.lines('steps.log')).sort(), ['a', 'b']);

    // A change on PostgreSQL (state rm), then the file copy is older: refused without -force.
    expectExit(await runCli(['state', 'rm', pgState, 't.pkr.hcl', 'null.b'], w.dir), 0);
    const older = await runCli(['state', 'push', pgState, 's.json'], w.dir);
    expectExit(older, 1);
    assert.match(older.stderr, /serial/i);
    assert.doesNotMatch(older.stderr, /\n\s+at /, 'no stack trace');

    // Another lineage: refused without -force, accepted with it.
    const other = { ...onFiles, lineage: '00000000-0000-4000-8000-000000000000', serial: onFiles.serial + 100 };
    delete (other as Partial<StateFile> & { checksum?: string }).checksum;
    await writeFile(join(w.dir, 'other.json'), JSON.stringify(other));
    const refused = await runCli(['state', 'push', pgState, 'other.json'], w.dir);
    expectExit(refused, 1);
    assert.match(refused.stderr, /lineage/);

    // postgres → files (a new file state), then back to an empty workspace of PostgreSQL.
    const fromPg = await runCli(['state', 'pull', pgState], w.dir);
    expectExit(fromPg, 0);
    const pgNow = JSON.parse(fromPg.stdout) as StateFile;
    assert.deepEqual(Object.keys(pgNow.builds).sort(), ['t.pkr.hcl/null.a']);
    await w.write('from-pg.json', fromPg.stdout);
    expectExit(await runCli(['state', 'push', fileState, 'from-pg.json'], w.dir), 0);
    const back = JSON.parse((await runCli(['state', 'pull', fileState], w.dir)).stdout) as StateFile;
    assert.equal(back.lineage, pgNow.lineage);
    assert.equal(back.serial, pgNow.serial);
    assert.deepEqual(back.builds, pgNow.builds);
    const list = await runCli(['state', 'list', fileState], w.dir);
    expectExit(list, 0);
    assert.match(list.stdout, /null\.a/);
    assert.doesNotMatch(list.stdout, /null\.b/);
    expectExit(await runCli(['workspace', 'new', pgState, 'moved'], w.dir), 0);
    expectExit(await runCli(['state', 'push', pgState, '-workspace=moved', 'from-pg.json'], w.dir), 0);
    const moved = JSON.parse((await runCli(['state', 'pull', pgState, '-workspace=moved'], w.dir)).stdout) as StateFile;
    assert.equal(moved.lineage, pgNow.lineage);
    assert.equal(moved.serial, pgNow.serial);
  });
});
