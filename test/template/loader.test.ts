/**
 * The template loader's semantics, on small templates written to temp folders: variable
 * precedence and conversion, locals order and cycles, builds and their names, meta-arguments,
 * dynamic blocks, component configuration (inner sources, overrides, specs), sensitive values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHclTemplate, type LoadOptions } from '../../src/template/loader.js';
import { expandBuilds } from '../../src/template/expand.js';
import { evaluateSourceConfig, evaluateStepConfig } from '../../src/template/evaluate-config.js';
import type { Template } from '../../src/template/model.js';
import type { Diagnostic } from '../../src/diagnostics.js';
import type { ConfigSpec } from '../../src/sdk/component.js';
import { localsContext } from '../../src/template/context.js';
import { bodyJustAttributes } from '../../src/hcl/body.js';
import { evaluate } from '../../src/hcl/eval.js';

/** Writes `files` into a fresh temp folder, runs `fn(dir)`, removes the folder. */
async function inDir<T>(files: Record<string, string>, fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'builder-loader-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function load(dir: string, path = '.', options: Partial<LoadOptions> = {}): { template?: Template; diagnostics: Diagnostic[] } {
  return loadHclTemplate(path, { env: {}, cwd: dir, ...options });
}

const errors = (ds: readonly Diagnostic[]): string[] => ds.filter((d) => d.severity === 'error').map((d) => d.summary);
const warnings = (ds: readonly Diagnostic[]): string[] => ds.filter((d) => d.severity === 'warning').map((d) => d.summary);

function value(t: Template | undefined, name: string): unknown {
  return t?.variables.get(name)?.value?.toJS();
}

const PRECEDENCE = `
variable "v" {
  type    = string
  default = "default"
}
`;

test('variable precedence: default < PKR_VAR_ < auto.pkrvars (lexical) < -var/-var-file in command-line order', async () => {
  await inDir(
    {
      'main.pkr.hcl': PRECEDENCE,
      'b.auto.pkrvars.hcl': 'v = "auto-b"\n',
      'a.auto.pkrvars.hcl': 'v = "auto-a"\n',
      'one.pkrvars.hcl': 'v = "file-one"\n',
      'two.pkrvars.json': '{"v": "file-two"}\n',
    },
    (dir) => {
      assert.equal(value(load(dir, 'main.pkr.hcl').template, 'v'), 'default', 'a single file reads no auto.pkrvars');
      assert.equal(value(load(dir, 'main.pkr.hcl', { env: { PKR_VAR_v: 'env' } }).template, 'v'), 'env');
      assert.equal(value(load(dir, '.', { env: { PKR_VAR_v: 'env' } }).template, 'v'), 'auto-b', 'the lexically last auto file wins');
      const ordered = (inputs: LoadOptions['inputs']): unknown => value(load(dir, '.', { inputs, env: { PKR_VAR_v: 'env' } }).template, 'v');
      assert.equal(ordered([{ kind: 'var', name: 'v', value: 'cli' }, { kind: 'file', path: 'one.pkrvars.hcl' }]), 'file-one');
      assert.equal(ordered([{ kind: 'file', path: 'one.pkrvars.hcl' }, { kind: 'var', name: 'v', value: 'cli' }]), 'cli');
      assert.equal(ordered([{ kind: 'file', path: 'two.pkrvars.json' }, { kind: 'file', path: 'one.pkrvars.hcl' }]), 'file-one');
      assert.equal(load(dir, '.', { inputs: [{ kind: 'var', name: 'v', value: 'cli' }] }).template?.variables.get('v')?.source, 'cli');
    },
  );
});

test('values convert to the declared type; text for non-primitive types is parsed as HCL', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
variable "n" {
  type = number
}
variable "l" {
  type    = list(string)
  default = []
}
variable "s" {
  type    = string
  default = "x"
}
`,
      'bad.pkrvars.hcl': 's = ["a"]\nn = 1\n',
    },
    (dir) => {
      const r = load(dir, '.', { inputs: [{ kind: 'var', name: 'n', value: '3' }, { kind: 'var', name: 'l', value: '["a", "b"]' }] });
      assert.deepEqual(errors(r.diagnostics), []);
      assert.equal(value(r.template, 'n'), 3);
      assert.deepEqual(value(r.template, 'l'), ['a', 'b']);
      assert.deepEqual(errors(load(dir, '.', { inputs: [{ kind: 'var', name: 'n', value: 'three' }] }).diagnostics), ['Invalid argument value for -var variable']);
      assert.deepEqual(errors(load(dir, '.', { inputs: [{ kind: 'file', path: 'bad.pkrvars.hcl' }] }).diagnostics), ['Invalid value for variable']);
      assert.deepEqual(errors(load(dir).diagnostics), ['Unset variable "n"']);
    },
  );
});

test('an undeclared variable in a var file is a warning, an error or nothing as asked; in -var it is an error', async () => {
  await inDir({ 'main.pkr.hcl': PRECEDENCE, 'x.pkrvars.hcl': 'nobody = 1\n' }, (dir) => {
    const inputs: LoadOptions['inputs'] = [{ kind: 'file', path: 'x.pkrvars.hcl' }];
    const lenient = load(dir, '.', { inputs });
    assert.deepEqual(errors(lenient.diagnostics), []);
    assert.deepEqual(warnings(lenient.diagnostics), ['Undefined variable']);
    assert.deepEqual(errors(load(dir, '.', { inputs, undeclaredVarFile: 'error' }).diagnostics), ['Undefined variable']);
    assert.deepEqual(load(dir, '.', { inputs, undeclaredVarFile: 'ignore' }).diagnostics, []);
    assert.deepEqual(errors(load(dir, '.', { inputs: [{ kind: 'var', name: 'nobody', value: '1' }] }).diagnostics), ['Undefined -var variable']);
  });
});

test('validation rules run on the final value and print their error_message', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
variable "size" {
  type    = number
  default = 1
  validation {
    condition     = var.size > 0
    error_message = "The size must be positive."
  }
}
`,
    },
    (dir) => {
      assert.deepEqual(errors(load(dir).diagnostics), []);
      const bad = load(dir, '.', { inputs: [{ kind: 'var', name: 'size', value: '-1' }] });
      assert.deepEqual(errors(bad.diagnostics), ['Invalid value for cmd variable']);
        assert.match(bad.diagnostics[0]!.detail ?? '', /^The size must be positive\.\n\nThis was checked by the validation rule at main\.pkr\.hcl:5,3-13\.$/);
    },
  );
  await inDir({ 'main.pkr.hcl': 'variable "x" {\n  default = "a"\n  validation {\n    condition = var.x != ""\n    error_message = "too short"\n  }\n}\n' }, (dir) => {
    assert.deepEqual(errors(load(dir).diagnostics), ['Invalid validation error message']);
  });
});

test('env() works in variable defaults only', async () => {
  await inDir({ 'main.pkr.hcl': 'variable "h" {\n  default = env("MY_HOME")\n}\nlocals {\n  x = env("MY_HOME")\n}\n' }, (dir) => {
    const r = load(dir, '.', { env: { MY_HOME: '/home/me' } });
    assert.equal(value(r.template, 'h'), '/home/me');
    assert.deepEqual(errors(r.diagnostics), ['Call to unknown function']);
  });
});

test('locals are evaluated in reference order; a cycle names its members', async () => {
  await inDir(
    {
      'a.pkr.hcl': 'locals {\n  c = "${local.b}c"\n}\n',
      'b.pkr.hcl': 'locals {\n  b = "${local.a}b"\n  a = "a"\n}\n',
    },
    (dir) => {
      const r = load(dir);
      assert.deepEqual(errors(r.diagnostics), []);
      assert.equal(r.template?.locals.get('c')?.value?.toJS(), 'abc');
    },
  );
  await inDir({ 'main.pkr.hcl': 'locals {\n  x = local.y\n  y = local.z\n  z = local.x\n  ok = 1\n}\n' }, (dir) => {
    const r = load(dir);
    assert.deepEqual(errors(r.diagnostics), ['Cycle in local variables']);
    assert.match(r.diagnostics[0]!.detail ?? '', /local\.x, local\.y, local\.z|local\.x.*local\.y.*local\.z/);
    assert.equal(r.template?.locals.get('ok')?.value?.toJS(), 1);
  });
});

test('required_version is checked against the Packer language version', async () => {
  await inDir({ 'ok.pkr.hcl': 'packer {\n  required_version = ">= 1.7.0, < 99.0.0"\n}\n', 'later.pkr.hcl': 'packer {\n  required_version = "~> 1.5.0"\n}\n' }, (dir) => {
    assert.deepEqual(errors(load(dir, 'ok.pkr.hcl').diagnostics), []);
    const r = load(dir, 'later.pkr.hcl');
    assert.deepEqual(errors(r.diagnostics), ['Unsupported Packer Core version']);
    assert.match(r.diagnostics[0]!.detail ?? '', /~> 1\.5\.0/);
  });
});

const BUILDS = `
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "null.b"]
  provisioner "shell-local" {
    only   = ["null.a"]
    inline = ["echo a"]
  }
  provisioner "shell-local" {
    name         = "everywhere"
    pause_before = "1m30s"
    max_retries  = 2
    timeout      = "500ms"
    inline       = ["echo \${source.name}"]
    override = {
      b = { inline = ["echo overridden"] }
    }
  }
  post-processor "manifest" {
    name = "m"
  }
}
build {
  name = "named"
  source "source.null.a" {
    name   = "renamed"
  }
}
`;

test('builds are named as Packer names them, and -only/-except globs match those names', async () => {
  await inDir({ 'main.pkr.hcl': BUILDS }, (dir) => {
    const { template, diagnostics } = load(dir);
    assert.deepEqual(errors(diagnostics), []);
    const names = (only?: string[], except?: string[]): string[] => expandBuilds(template!, only, except).map((b) => b.name);
    assert.deepEqual(names(), ['null.a', 'null.b', 'named.null.renamed']);
    assert.deepEqual(names(['named.*']), ['named.null.renamed']);
    assert.deepEqual(names([], ['null.*']), ['named.null.renamed']);
    const [a, b] = expandBuilds(template!);
    assert.equal(a!.provisioners.length, 2);
    assert.equal(b!.provisioners.length, 1, 'only = ["null.a"] skips null.b');
    assert.equal(expandBuilds(template!, [], ['m'])[0]!.postProcessors.length, 0, '-except names post-processors too');
  });
});

test('provisioner meta-arguments are decoded; durations are Go durations', async () => {
  await inDir({ 'main.pkr.hcl': BUILDS, 'bad.pkr.hcl': 'build {\n  provisioner "shell-local" {\n    timeout = "10 minutes"\n    only = ["a"]\n    except = ["b"]\n  }\n}\n' }, (dir) => {
    const p = load(dir, 'main.pkr.hcl').template!.builds[0]!.provisioners[1]!;
    assert.equal(p.name, 'everywhere');
    assert.equal(p.pauseBefore, 90_000);
    assert.equal(p.maxRetries, 2);
    assert.equal(p.timeout, 500);
    assert.deepEqual([...p.override!.keys()], ['b']);
    assert.deepEqual(errors(load(dir, 'bad.pkr.hcl').diagnostics), ['Invalid only/except', 'Failed to parse timeout duration']);
  });
});

const SHELL_SPEC: ConfigSpec = { attributes: { inline: { type: 'list(string)' }, communicator: { type: 'string' }, name_tag: { type: 'string' } } };

test('component configuration: overrides per source, contextual values, unknown build values, spec checks', async () => {
  await inDir({ 'main.pkr.hcl': BUILDS }, (dir) => {
    const t = load(dir).template!;
    const [a, b] = expandBuilds(t);
    const prov = t.builds[0]!.provisioners[1]!;
    const forA = evaluateStepConfig(t, a!, prov, { sourceName: 'a', sourceType: 'null' }, SHELL_SPEC);
    assert.deepEqual(forA.config, { inline: ['echo a'] });
    const forB = evaluateStepConfig(t, b!, prov, { sourceName: 'b', sourceType: 'null' }, SHELL_SPEC);
    assert.deepEqual(forB.config, { inline: ['echo overridden'] });
    const unknown = evaluateStepConfig(t, a!, prov, {}, SHELL_SPEC);
    assert.deepEqual(unknown.diagnostics, []);
    const strict = evaluateStepConfig(t, a!, prov, {}, { attributes: {} });
    assert.deepEqual(errors(strict.diagnostics), ['Unsupported argument']);
  });
});

test('an inner source block adds fields to the source; setting one twice is an error', async () => {
  const tpl = (extra: string): string => `
source "null" "s" {
  communicator = "none"
}
build {
  source "source.null.s" {
    name = "x"
    ${extra}
  }
}
`;
  await inDir({ 'add.pkr.hcl': tpl('name_tag = "added"'), 'dup.pkr.hcl': tpl('communicator = "ssh"') }, (dir) => {
    const t = load(dir, 'add.pkr.hcl').template!;
    const [p] = expandBuilds(t);
    assert.equal(p!.name, 'null.x');
    assert.deepEqual(evaluateSourceConfig(t, p!, {}, SHELL_SPEC).config, { communicator: 'none', name_tag: 'added' });
    const d = load(dir, 'dup.pkr.hcl').template!;
    assert.deepEqual(errors(evaluateSourceConfig(d, expandBuilds(d)[0]!, {}, SHELL_SPEC).diagnostics), ['Duplicate argument']);
  });
});

test('dynamic blocks expand with their iterator, labels and nested content', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
variable "cmds" {
  default = { first = "echo 1", second = "echo 2" }
}
source "null" "s" {
  communicator = "none"
}
build {
  sources = ["source.null.s"]
  dynamic "provisioner" {
    for_each = var.cmds
    labels   = ["shell-local"]
    content {
      name   = provisioner.key
      inline = [provisioner.value]
    }
  }
}
`,
    },
    (dir) => {
      const r = load(dir);
      assert.deepEqual(errors(r.diagnostics), []);
      const t = r.template!;
      const provs = t.builds[0]!.provisioners;
      assert.deepEqual(provs.map((p) => [p.type, p.name]), [['shell-local', 'first'], ['shell-local', 'second']]);
      const [planned] = expandBuilds(t);
      assert.deepEqual(evaluateStepConfig(t, planned!, provs[1]!, {}, SHELL_SPEC).config, { inline: ['echo 2'] });
    },
  );
});

test('sensitive variables and locals are marked, and their strings listed for masking', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
variable "pw" {
  default   = "hunter2"
  sensitive = true
}
local "login" {
  expression = "admin:\${var.pw}"
}
source "null" "s" {
  communicator = "none"
}
build {
  sources = ["source.null.s"]
  provisioner "shell-local" {
    inline = [local.login]
  }
}
`,
    },
    (dir) => {
      const t = load(dir).template!;
      assert.equal(t.variables.get('pw')!.sensitive, true);
      assert.equal(t.locals.get('login')!.sensitive, true);
      const [p] = expandBuilds(t);
      const cfg = evaluateStepConfig(t, p!, t.builds[0]!.provisioners[0]!, {}, SHELL_SPEC);
      assert.deepEqual(cfg.sensitiveValues.sort(), ['admin:hunter2', 'hunter2']);
    },
  );
});

test('data blocks of unknown types, duplicate blocks and unknown sources are errors', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
data "amazon-ami" "x" {
  filters = {}
}
source "null" "s" {
  communicator = "none"
}
source "null" "s" {
  communicator = "none"
}
build {
  sources = ["source.null.nope"]
}
`,
    },
    (dir) => {
      assert.deepEqual(errors(load(dir).diagnostics).sort(), ['Duplicate source block', 'Unknown data source type "amazon-ami"', 'Unknown source null.nope']);
    },
  );
});

test('a folder without templates, and a file of another kind, are errors', async () => {
  await inDir({ 'notes.txt': 'hello' }, (dir) => {
    assert.deepEqual(errors(load(dir).diagnostics), ['Could not find any config file in .']);
    assert.deepEqual(errors(load(dir, 'notes.txt').diagnostics), ['Could not find any config file in notes.txt']);
    assert.deepEqual(errors(load(dir, 'missing.pkr.hcl').diagnostics), ['Could not find any config file in missing.pkr.hcl']);
  });
});

test('nested blocks follow the spec (single or list), and dynamic blocks expand inside component bodies', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
variable "disks" {
  default = [10, 20]
}
source "null" "s" {
  communicator = "none"
  settings {
    size = 1
  }
  dynamic "disk" {
    for_each = var.disks
    content {
      size = disk.value
      index = disk.key
    }
  }
}
build {
  sources = ["source.null.s"]
  hcp_packer_registry {
    bucket_name = "ignored"
  }
}
`,
    },
    (dir) => {
      const r = load(dir);
      assert.deepEqual(errors(r.diagnostics), []);
      assert.deepEqual(warnings(r.diagnostics), ['HCP Packer registry not supported']);
      const sizeSpec: ConfigSpec = { attributes: { size: { type: 'number' }, index: { type: 'number' } } };
      const spec: ConfigSpec = {
        attributes: { communicator: { type: 'string' } },
        blocks: { settings: { nesting: 'single', spec: sizeSpec }, disk: { nesting: 'list', spec: sizeSpec } },
      };
      const t = r.template!;
      const cfg = evaluateSourceConfig(t, expandBuilds(t)[0]!, {}, spec);
      assert.deepEqual(cfg.diagnostics, []);
      assert.deepEqual(cfg.config, { communicator: 'none', settings: { size: 1 }, disk: [{ size: 10, index: 0 }, { size: 20, index: 1 }] });
      const missing = evaluateSourceConfig(t, expandBuilds(t)[0]!, {}, { attributes: { ...spec.attributes, region: { type: 'string', required: true } }, blocks: spec.blocks });
      assert.deepEqual(errors(missing.diagnostics), ['Missing required argument']);
    },
  );
});

test('communicator secrets (build.Password, build.SSHPrivateKey) are sensitive', async () => {
  await inDir(
    {
      'main.pkr.hcl': `
source "null" "s" {
  communicator = "none"
}
build {
  sources = ["source.null.s"]
  provisioner "shell-local" {
    inline = ["echo \${build.Host}", "login \${build.Password}"]
  }
}
`,
    },
    (dir) => {
      const t = load(dir).template!;
      const [p] = expandBuilds(t);
      const cfg = evaluateStepConfig(t, p!, t.builds[0]!.provisioners[0]!, { build: { Host: '10.0.0.1', Password: 'pw123' } }, SHELL_SPEC);
      assert.deepEqual(cfg.config, { inline: ['echo 10.0.0.1', 'login pw123'] });
      assert.deepEqual(cfg.sensitiveValues.sort(), ['login pw123', 'pw123']);
    },
  );
});

test('path.root is the template folder as given (relative when the path was), path.cwd is absolute', async () => {
  await inDir({ 'main.pkr.hcl': 'locals {\n  root = path.root\n  cwd = path.cwd\n}\n' }, (dir) => {
    const file = load(dir, 'main.pkr.hcl').template!;
    assert.equal(file.locals.get('root')!.value!.toJS(), '.');
    assert.equal(file.locals.get('cwd')!.value!.toJS(), dir);
    assert.equal(load(dir, '.').template!.locals.get('root')!.value!.toJS(), '.');
    assert.equal(load(join(dir, '..'), join(dir.split('/').pop()!, 'main.pkr.hcl')).template!.locals.get('root')!.value!.toJS(), dir.split('/').pop());
  });
});

test('a template for a newer Packer gets only the version error', async () => {
  await inDir({ 'main.pkr.hcl': 'packer {\n  required_version = ">= 99.0.0"\n}\nfuture_block "x" {\n}\n' }, (dir) => {
    assert.deepEqual(errors(load(dir).diagnostics), ['Unsupported Packer Core version']);
  });
});

test('a dynamic block in JSON syntax expands as in native syntax (the iterator reaches the content)', async () => {
  await inDir(
    {
      'main.pkr.json': JSON.stringify({
        source: { null: { a: { communicator: 'none' } } },
        build: {
          sources: ['source.null.a'],
          provisioner: { 'shell-local': { inline: ['echo before'] } },
          dynamic: { provisioner: { for_each: ['x', 'y'], iterator: 'it', labels: ['${it.value == "x" ? "shell-local" : "file"}'], content: { inline: ['echo ${it.value} ${it.key}'] } } },
          'post-processor': { manifest: {} },
        },
      }),
    },
    (dir) => {
      const r = load(dir);
      assert.deepEqual(errors(r.diagnostics), []);
      const provs = r.template!.builds[0]!.provisioners;
      assert.deepEqual(provs.map((p) => p.type), ['shell-local', 'shell-local', 'file']);
      const ctx = localsContext(r.template!, { root: dir, cwd: dir, env: {} });
      const inline = bodyJustAttributes(provs[1]!.body).attributes.get('inline')!;
      assert.equal(evaluate(inline.expr, ctx).value.elements()[0]!.asString(), 'echo x 0');
    },
  );
});
