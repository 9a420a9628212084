/**
 * Plugins through the real CLI (`node dist/src/cli/main.js` as a process): templates whose
 * components come from Packer 1.6.6's in-tree plugins (`packer plugin packer-KIND-NAME`) or from a
 * `packer-plugin-*` binary selected by `required_plugins`; state on top; a differential run
 * against `packer build`; `builder plugins list`. Skipped, with the reason, without packer.
 *
 * Every builder process gets a unique marker in its environment, which its plugin processes
 * inherit; after each run the test checks that no process carrying the marker is left, and kills
 * (by pid) any that is.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILDER_JS, runProcess, type RunResult } from '../cli/run.js';
import { runBoth } from '../differential/harness.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';
import { assertNoneLeft } from '../helpers/leftovers.js';

const skip = packerSkipReason();

const NULL_SOURCE = 'source "null" "a" {\n  communicator = "none"\n}\n';
/** `required_plugins` asking for the p166 wrapper (installWrapper) ~> 1.0, and the null source. */
const P166_NULL = `packer {
  required_plugins {
    p166 = { source = "github.com/example/p166", version = "~> 1.0" }
  }
}
${NULL_SOURCE}`;

/** `packer build` and `builder build` (BUILDER_PREFER_PLUGINS=1) of SRC/template.pkr.hcl: both
 * succeed with the same output lines and files; returns the files. */
async function sameAsPacker(src: string): Promise<Record<string, string>> {
  const saved = process.env.BUILDER_PREFER_PLUGINS;
  process.env.BUILDER_PREFER_PLUGINS = '1';
  try {
    const { packer: p, builder: b } = await runBoth(src, 'template.pkr.hcl', {});
    const context = `\n--- packer ---\n${p.raw}\n--- builder ---\n${b.raw}`;
    assert.equal(b.exitCode, p.exitCode, `exit code${context}`);
    assert.equal(p.exitCode, 0, context);
    assert.deepEqual(b.builds, p.builds, `output lines${context}`);
    assert.deepEqual(b.run, p.run, `run-level lines${context}`);
    assert.deepEqual(b.files, p.files, `files${context}`);
    return b.files;
  } finally {
    if (saved === undefined) delete process.env.BUILDER_PREFER_PLUGINS;
    else process.env.BUILDER_PREFER_PLUGINS = saved;
  }
}

describe('templates through plugins, with the CLI', { skip }, () => {
  let dir: string;
  let n = 0;
  const packer = packerBinary() ?? 'packer';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'builder-plugins-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh folder with `files`, and a runner of builder in it (own HOME, the marker, `env`). */
  function workdir(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): { path: string; run: (...args: string[]) => Promise<RunResult> } {
    const path = join(dir, `w${++n}`);
    mkdirSync(join(path, 'home'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
    return {
      path,
      async run(...args) {
        const marker = `BUILDER_TEST_MARK=${randomUUID()}`;
        const [k, v] = marker.split('=') as [string, string];
        const r = await runProcess(args, { cwd: path, env: { HOME: join(path, 'home'), CHECKPOINT_DISABLE: '1', TMPDIR: path, [k]: v, ...env } });
        await assertNoneLeft(marker);
        return r;
      },
    };
  }

  it('BUILDER_PREFER_PLUGINS=1: null + shell-local + manifest come from Packer 1.6.6; the second run is up to date', async () => {
    const w = workdir({
      't.pkr.hcl': `${NULL_SOURCE}build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo provisioned by the plugin >> steps.log"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`,
    }, { BUILDER_PREFER_PLUGINS: '1' });
    const first = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    // Packer's own texts: its shell-local names a /tmp/packer-shell script, its null artifact says so.
    assert.match(first.stdout, /==> null\.a: Running local shell script: .*packer-shell\d+/);
    assert.match(first.stdout, /--> null\.a: Did not export anything\. This is the null builder/);
    const manifest = JSON.parse(readFileSync(join(w.path, 'manifest.json'), 'utf8')) as { builds: Array<{ builder_type: string; artifact_id: string; packer_run_uuid: string }>; last_run_uuid: string };
    assert.equal(manifest.builds.length, 1);
    assert.equal(manifest.builds[0]!.builder_type, 'null');
    assert.equal(manifest.builds[0]!.artifact_id, 'Null');
    assert.match(manifest.last_run_uuid, /^[0-9a-f-]{36}$/);
    const second = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /==> null\.a: Up to date: /);
    assert.deepEqual(readFileSync(join(w.path, 'steps.log'), 'utf8').trim().split('\n'), ['provisioned by the plugin']);
  });

  it('packer build and builder build (BUILDER_PREFER_PLUGINS=1) give the same exit code, output lines and files', async () => {
    const src = join(dir, 'diff');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'template.pkr.hcl'), `source "file" "f" {
  content = "hello"
  target  = "out.txt"
}
build {
  sources = ["source.file.f"]
  # stdout and stderr in two steps: within one step their order is a race (in Packer too: its
  # plugin sends each stream from its own goroutine)
  provisioner "shell-local" {
    inline = ["echo one"]
  }
  provisioner "shell-local" {
    inline = ["echo two >&2"]
  }
  # build.* values come from the plugin builder's provision hook data
  provisioner "shell-local" {
    inline = ["echo 'id=\${build.ID} type=\${build.ConnType}'"]
  }
  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "out.{{.ChecksumType}}.checksum"
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
}
`);
    await sameAsPacker(src);
  });

  it('reused plugin processes (the default): no configuration of one instance reaches the next, as with packer build', async () => {
    const src = join(dir, 'reuse');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 's.sh'), 'echo "script A=${A:-unset} B=${B:-unset}" >> out.log\n');
    chmodSync(join(src, 's.sh'), 0o755);
    writeFileSync(join(src, 'template.pkr.hcl'), `${NULL_SOURCE}build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline           = ["echo \\"inline1 A=$\${A:-unset} B=$\${B:-unset}\\" >> out.log"]
    environment_vars = ["A=1"]
  }
  provisioner "shell-local" {
    script = "s.sh"
  }
  provisioner "shell-local" {
    inline           = ["echo \\"inline3 A=$\${A:-unset} B=$\${B:-unset}\\" >> out.log"]
    environment_vars = ["B=2"]
  }
  post-processor "manifest" {
    output      = "m1.json"
    custom_data = { k = "v" }
  }
  post-processor "manifest" {
    output = "m2.json"
  }
}
`);
    const files = await sameAsPacker(src);
    assert.deepEqual(files['out.log']?.trim().split('\n'), ['inline1 A=1 B=unset', 'script A=unset B=unset', 'inline3 A=unset B=2']);
  });

  /**
   * A current-style plugin binary (describe, start) that serves Packer 1.6.6's shell-local
   * post-processor, installed as `packer plugins install` lays it out, at `version`. `works`
   * false: its start fails, so a test sees which version was chosen.
   */
  function installWrapper(home: string, version: string, works: boolean): void {
    const folder = join(home, '.packer.d', 'plugins', 'github.com', 'example', 'p166');
    mkdirSync(folder, { recursive: true });
    const arch = process.arch.replace('x64', 'amd64');
    const bin = join(folder, `packer-plugin-p166_v${version}_x5.0_${process.platform}_${arch}`);
    const describeJson = JSON.stringify({ version, sdk_version: '0.0.0', api_version: 'x5.0', builders: [], provisioners: [], post_processors: ['shell-local'], datasources: [] });
    writeFileSync(bin, `#!/bin/sh
case "$1" in
  describe) printf '%s\\n' '${describeJson}' ;;
  start) ${works ? `exec ${JSON.stringify(packer)} plugin packer-post-processor-shell-local` : 'echo "this version must not be chosen" >&2; exit 3'} ;;
  *) exit 1 ;;
esac
`);
    chmodSync(bin, 0o755);
    writeFileSync(`${bin}_SHA256SUM`, createHash('sha256').update(readFileSync(bin)).digest('hex'));
  }

  it('required_plugins selects a version; a failed plugin post-processor re-runs only its chain', async () => {
    const w = workdir({
      't.pkr.hcl': `${P166_NULL}build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo provision >> steps.log"]
  }
  post-processor "p166-shell-local" {
    inline = ["echo post >> steps.log", "test -f fixed"]
  }
}
`,
    });
    installWrapper(join(w.path, 'home'), '1.4.0', true);
    installWrapper(join(w.path, 'home'), '2.0.0', false);
    const first = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(first.code, 1, first.stdout + first.stderr);
    assert.match(first.stdout, /Script exited with non-zero exit status: 1/);
    writeFileSync(join(w.path, 'fixed'), '');
    const second = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /==> null\.a: Resuming: post-processor 1 \(p166-shell-local\) failed /);
    assert.deepEqual(readFileSync(join(w.path, 'steps.log'), 'utf8').trim().split('\n'), ['provision', 'post', 'post']);
    const third = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.match(third.stdout, /==> null\.a: Up to date: /);
  });

  it('a plugin upgraded or replaced makes its steps and builds changed, naming the plugin', async () => {
    const w = workdir({
      't.pkr.hcl': `${P166_NULL}build {
  sources = ["source.null.a"]
  post-processor "p166-shell-local" {
    inline = ["echo post >> steps.log"]
  }
}
`,
    });
    const home = join(w.path, 'home');
    installWrapper(home, '1.4.0', true);
    const first = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match((await w.run('plan', '-color=false', 't.pkr.hcl')).stdout, /up to date|Up to date|up-to-date/i);
    // Upgrade: 1.4.0 is replaced by 1.5.0.
    rmSync(join(home, '.packer.d', 'plugins'), { recursive: true, force: true });
    installWrapper(home, '1.5.0', true);
    const upgraded = await w.run('plan', '-color=false', 't.pkr.hcl');
    assert.equal(upgraded.code, 0, upgraded.stdout + upgraded.stderr);
    assert.match(upgraded.stdout, /the plugin packer-plugin-p166 v1\.4\.0 was replaced by packer-plugin-p166 v1\.5\.0/, upgraded.stdout);
    const second = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual(readFileSync(join(w.path, 'steps.log'), 'utf8').trim().split('\n'), ['post', 'post']);
    // Same name and version, another executable (rebuilt in place): the digest tells.
    const arch = process.arch.replace('x64', 'amd64');
    const bin = join(home, '.packer.d', 'plugins', 'github.com', 'example', 'p166', `packer-plugin-p166_v1.5.0_x5.0_${process.platform}_${arch}`);
    writeFileSync(bin, `${readFileSync(bin, 'utf8')}# rebuilt\n`);
    writeFileSync(`${bin}_SHA256SUM`, createHash('sha256').update(readFileSync(bin)).digest('hex'));
    const rebuilt = await w.run('plan', '-color=false', 't.pkr.hcl');
    assert.match(rebuilt.stdout, /the plugin packer-plugin-p166 v1\.5\.0 changed \(its executable differs\)/, rebuilt.stdout);
  });

  it('a plugin builder: replacing the Packer that serves it makes the build changed', async () => {
    const fakeBin = join(dir, `packer-wrap-${++n}`);
    mkdirSync(fakeBin, { recursive: true });
    const wrapper = join(fakeBin, 'packer');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(packer)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const w = workdir({ 't.pkr.hcl': `${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n` }, { BUILDER_PREFER_PLUGINS: '1', BUILDER_PACKER: wrapper });
    const first = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    writeFileSync(wrapper, `#!/bin/sh\n# another build of the same version\nexec ${JSON.stringify(packer)} "$@"\n`);
    const plan = await w.run('plan', '-color=false', 't.pkr.hcl');
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /source\.null\.a: the plugin packer 1\.6\.6 changed \(its executable differs\)/, plan.stdout);
  });

  it('a plugin builder keeps no instance: the plan says so, and a failure cleans up as Packer does', async () => {
    const w = workdir({
      't.pkr.hcl': `${NULL_SOURCE}build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo one >> steps.log", "test -f fixed"]
  }
}
`,
    }, { BUILDER_PREFER_PLUGINS: '1' });
    const note = /null\.a: {3}! the builder comes from the plugin packer 1\.6\.6, whose instance lives only in this run: a later run cannot resume on it/;
    const before = await w.run('plan', '-color=false', 't.pkr.hcl');
    assert.match(before.stdout, note, before.stdout);
    const failed = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    // Packer's cleanup: the plugin's own StepProvision line, once; nothing kept.
    assert.equal(failed.stdout.match(/Provisioning step had errors: Running the cleanup provisioner, if present\.\.\./g)?.length, 1, failed.stdout);
    assert.doesNotMatch(failed.stdout, /was kept|The completed steps are recorded/, failed.stdout);
    const after = await w.run('plan', '-color=false', 't.pkr.hcl');
    assert.match(after.stdout, /Building from the start: the last build failed without keeping an instance to resume on\./, after.stdout);
    assert.match(after.stdout, note, after.stdout);
    const json = JSON.parse((await w.run('plan', '-json', 't.pkr.hcl')).stdout) as { builds: Array<{ builder_plugin?: unknown }> };
    assert.deepEqual(json.builds[0]!.builder_plugin, { name: 'packer 1.6.6', resumable: false });
  });

  it('-on-error=ask with a plugin builder: fix the file, answer retry, the plugin keeps its instance and the build completes', async (t) => {
    const scriptBin = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
    if (!scriptBin) {
      t.skip('util-linux `script` (a terminal for the -on-error=ask question) is not installed');
      return;
    }
    const w = workdir({
      't.pkr.hcl': `${NULL_SOURCE}build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo one >> steps.log", "test -f fixed"]
  }
  provisioner "shell-local" {
    inline = ["echo two >> steps.log"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`,
    }, { BUILDER_PREFER_PLUGINS: '1' });
    const marker = randomUUID();
    // `script` gives builder a terminal (it asks only on one); the command comes from the
    // environment, not pasted into the shell text.
    const child = spawn(scriptBin, ['-qfec', 'exec "$B_NODE" "$B_MAIN" build -color=false -on-error=ask t.pkr.hcl', '/dev/null'], {
      cwd: w.path,
      detached: true,
      env: {
        PATH: process.env.PATH, HOME: join(w.path, 'home'), CHECKPOINT_DISABLE: '1', TMPDIR: w.path, BUILDER_PREFER_PLUGINS: '1',
        BUILDER_TEST_MARK: marker, B_NODE: process.execPath, B_MAIN: BUILDER_JS,
      },
    });
    let out = '';
    const asked = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('[r] retry step')) resolve();
      });
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    try {
      await Promise.race([asked, exited]);
      assert.match(out, /\[r\] retry step/, out);
      writeFileSync(join(w.path, 'fixed'), '');
      child.stdin.write('r\n');
      const code = await exited;
      assert.equal(code, 0, out);
    } finally {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* ended */ }
      await assertNoneLeft(`BUILDER_TEST_MARK=${marker}`);
    }
    assert.match(out, /==> null\.a: Step "StepProvision" failed/);
    assert.doesNotMatch(out, /builder-scripts-/, 'the provisioners came from the plugin (native shell-local writes builder-scripts-*)');
    assert.match(out, /--> null\.a: Did not export anything\. This is the null builder/);
    // The failed provisioner ran again on the same instance, then the rest of the build.
    assert.deepEqual(readFileSync(join(w.path, 'steps.log'), 'utf8').trim().split('\n'), ['one', 'one', 'two']);
    const manifest = JSON.parse(readFileSync(join(w.path, 'manifest.json'), 'utf8')) as { builds: unknown[] };
    assert.equal(manifest.builds.length, 1);
    const again = await w.run('build', '-color=false', 't.pkr.hcl');
    assert.match(again.stdout, /==> null\.a: Up to date: /, again.stdout);
  });

  it('required_plugins: a plugin not installed at the version asked names the packer plugins install command', async () => {
    const w = workdir({
      't.pkr.hcl': `packer {
  required_plugins {
    p166 = { source = "github.com/example/p166", version = ">= 3.0.0" }
    amazon = { source = "github.com/hashicorp/amazon", version = "1.2.8" }
  }
}
${NULL_SOURCE}build {
  sources = ["source.null.a"]
}
`,
    });
    installWrapper(join(w.path, 'home'), '1.4.0', true);
    for (const cmd of ['validate', 'build']) {
      const r = await w.run(cmd, 't.pkr.hcl');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /Error: Missing plugin github\.com\/example\/p166 >= 3\.0\.0\n\n {2}on t\.pkr\.hcl line 3/);
      assert.match(r.stderr, /but only v1\.4\.0 \(.*packer-plugin-p166_v1\.4\.0_x5\.0_.*\) is installed/);
      assert.match(r.stderr, /packer plugins install github\.com\/example\/p166 '>= 3\.0\.0'/);
      assert.match(r.stderr, /which is not installed\. Install it with:\n {2}packer plugins install github\.com\/hashicorp\/amazon v1\.2\.8/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('validate checks a component only Packer serves against its ConfigSpec, at file:line:col', async () => {
    const w = workdir({
      't.pkr.hcl': `${NULL_SOURCE}build {
  sources = ["source.null.a"]
  provisioner "ansible-local" {
    playbook_file = "site.yml"
    no_such_option = true
  }
}
`,
    });
    const r = await w.run('validate', 't.pkr.hcl');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Error: Unsupported argument\n\n {2}on t\.pkr\.hcl line 8, in build:\n {2}8: {5}no_such_option = true/);
  });

  it('a native-only template looks for no plugin: the packer on PATH is not even run', async () => {
    const fakeBin = join(dir, 'fakebin');
    mkdirSync(fakeBin, { recursive: true });
    const ran = join(fakeBin, 'ran');
    writeFileSync(join(fakeBin, 'packer'), `#!/bin/sh\necho "$@" >> ${JSON.stringify(ran)}\nexec ${JSON.stringify(packer)} "$@"\n`);
    chmodSync(join(fakeBin, 'packer'), 0o755);
    const w = workdir({ 't.pkr.hcl': `${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "shell-local" {\n    inline = ["true"]\n  }\n}\n` },
      { PATH: `${fakeBin}:${process.env.PATH ?? ''}` });
    assert.equal((await w.run('validate', 't.pkr.hcl')).code, 0);
    assert.equal((await w.run('build', 't.pkr.hcl')).code, 0);
    assert.equal(existsSync(ran), false, 'packer was run for a native-only template');
    writeFileSync(join(w.path, 'u.pkr.hcl'), `${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "ansible-local" {\n    playbook_file = "site.yml"\n  }\n}\n`);
    assert.equal((await w.run('validate', 'u.pkr.hcl')).code, 0);
    assert.match(readFileSync(ran, 'utf8'), /plugin packer-provisioner-ansible-local/);
  });

  it('builder plugins list: native and plugin components, their sources and versions, and which one is used', async () => {
    const w = workdir({});
    installWrapper(join(w.path, 'home'), '1.4.0', true);
    const r = await w.run('plugins', 'list');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^ {2}KIND +TYPE +VERSION +SOURCE$/);
    const row = (re: RegExp): string | undefined => lines.find((l) => re.test(l));
    assert.ok(row(/^\* builder +null +\S+ +native$/), r.stdout);
    assert.ok(row(/^ {2}builder +null +1\.6\.6 +packer 1\.6\.6 \(/), r.stdout);
    assert.ok(row(/^\* builder +amazon-ebs +1\.6\.6 +packer 1\.6\.6 \(/), r.stdout);
    assert.ok(row(/^\* post-processor +p166-shell-local +1\.4\.0 +packer-plugin-p166 v1\.4\.0 \(.*github\.com\/example\/p166\//), r.stdout);
    const prefer = await workdir({}, { BUILDER_PREFER_PLUGINS: '1' }).run('plugins', 'list', '-json');
    const rows = JSON.parse(prefer.stdout) as Array<{ kind: string; type: string; source: string; used: boolean }>;
    const nullRows = rows.filter((x) => x.kind === 'builder' && x.type === 'null');
    assert.deepEqual(nullRows.map((x) => [x.source.startsWith('packer 1.6.6') ? 'packer' : x.source, x.used]), [['packer', true], ['native', false]]);
  });
});
