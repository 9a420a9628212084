/**
 * A build whose builder and provisioners completed and whose post-processor chain failed: the next
 * run re-runs the failed chain (and those after it) on the builder's artifact recorded in the
 * state, without creating an instance (the file builder's instance does not outlive the build, so
 * there is none to resume on). Real `builder build` processes; the provisioner counts its runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectExit, inWorkdir, runCli } from './semantics-helpers.js';
import { packerSkipReason } from '../helpers/packer.js';

/** Chain 1: manifest (keeps the builder's artifact); chain 2: shell-local that fails until `fixed` exists. */
const template = `source "file" "f" {
  content = "made by the builder"
  target  = "out.txt"
}
build {
  sources = ["source.file.f"]
  provisioner "shell-local" {
    inline = ["echo provisioned >> steps.log"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
  post-processor "shell-local" {
    inline = ["echo pp >> pp.log", "test -f fixed"]
  }
}
`;

interface Manifest {
  builds: { name: string; builder_type: string; artifact_id: string; files: { name: string }[] }[];
}

describe('a failed post-processor chain re-runs alone on the recorded builder artifact', () => {
  /** The scenario, with `env` for every `builder build`. */
  const failThenFix = (env: NodeJS.ProcessEnv) => async (): Promise<void> => {
    await inWorkdir(async (w) => {
      const build = (): ReturnType<typeof w.build> => runCli(['build', 't.pkr.hcl'], w.dir, env);
      await w.write('t.pkr.hcl', template);
      const failed = await build();
      expectExit(failed, 1);
      const rec = await w.buildState('file.f');
      assert.equal(rec.status, 'failed');
      assert.equal(rec.instance, null);
      const builderArtifact = rec.artifacts.find((a) => a.metadata.step === 'finish');
      assert.ok(builderArtifact, 'the builder artifact (kept by the manifest) is recorded');
      assert.deepEqual(builderArtifact.files, ['out.txt']);
      assert.equal(builderArtifact.type, 'file');

      await w.write('fixed', '');
      const next = await build();
      expectExit(next, 0);
      assert.match(next.stdout, /==> file\.f: Resuming: post-processor 2 \(shell-local\) failed \([^\n]*\); re-runs post-processor chain 2 on the recorded artifact of the builder \(File\), without creating an instance\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['provisioned'], 'the provisioner ran once');
      assert.deepEqual(await w.lines('pp.log'), ['pp', 'pp'], 'the failed chain ran again');
      assert.equal(await readFile(join(w.dir, 'out.txt'), 'utf8'), 'made by the builder');
      const manifest = JSON.parse(await readFile(join(w.dir, 'manifest.json'), 'utf8')) as Manifest;
      assert.equal(manifest.builds.length, 1, 'the manifest chain did not run again');
      assert.match(next.stdout, /--> file\.f: Stored file: out\.txt\n/);

      const done = await w.buildState('file.f');
      assert.equal(done.status, 'complete');
      assert.deepEqual(done.post_processors.map((p) => p.status), ['complete', 'complete']);
      assert.ok(done.artifacts.some((a) => a.metadata.step === 'finish' && a.type === 'file'), 'the builder artifact is recorded again');

      const again = await build();
      expectExit(again, 0);
      assert.match(again.stdout, /Up to date/);
    });
  };

  test('native file builder: the builder and provisioners do not run again; the chain does, and the build completes', failThenFix({}));

  test('through Packer 1.6.6 plugins (BUILDER_PREFER_PLUGINS=1): the same', { skip: packerSkipReason() }, failThenFix({ BUILDER_PREFER_PLUGINS: '1' }));

  test('the builder artifact was deleted: built from the start', async () => {
    await inWorkdir(async (w) => {
      await w.write('t.pkr.hcl', template);
      expectExit(await w.build('t.pkr.hcl'), 1);
      await w.write('out.txt', 'changed by hand');
      await w.write('fixed', '');
      const next = await w.build('t.pkr.hcl');
      expectExit(next, 0);
      assert.match(next.stdout, /Building from the start/);
      assert.deepEqual(await w.lines('steps.log'), ['provisioned', 'provisioned']);
    });
  });
});
