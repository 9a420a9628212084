/**
 * Unit tests of the legacy JSON template layer: the Go template subset and its functions, the
 * parser's Packer errors with JSON ranges, and loading into the Template model (build names,
 * only/except, override, sensitive variables, var precedence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderGo } from '../../src/template/legacy/go-template.js';
import { legacyFunctions } from '../../src/template/legacy/functions.js';
import { formatGoTime } from '../../src/template/legacy/go-time.js';
import { parseLegacyTemplate } from '../../src/template/legacy/parse.js';
import { loadTemplate } from '../../src/template/loader.js';
import { expandBuilds } from '../../src/template/expand.js';

const fns = legacyFunctions({
  user: new Map([['x', 'ex']]),
  enableEnv: false,
  env: {},
  templatePath: '/t/template.json',
  cwd: '/w',
  initTime: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
  version: '1.6.6',
  buildName: 'b',
  buildType: 'null',
});
const render = (s: string): string => {
  const r = renderGo(s, 'root', { functions: fns, keepFields: true });
  return r.error ?? r.parts.map((p) => (p.kind === 'text' ? p.text : `<${p.raw}>`)).join('');
};

test('legacy functions render as Packer 1.6.6 renders them', () => {
  assert.equal(render('{{user `x`}}-{{build_name}}-{{build_type}}'), 'ex-b-null');
  assert.equal(render('{{timestamp}}'), String(Date.UTC(2020, 0, 2, 3, 4, 5) / 1000));
  assert.equal(render('{{isotime}}|{{isotime "2006-01-02 15:04"}}'), '2020-01-02T03:04:05Z|2020-01-02 03:04');
  assert.equal(render('{{template_dir}} {{pwd}} {{packer_version}}'), '/t /w 1.6.6');
  assert.equal(render('{{split `a,b,c` `,` 1}} {{upper `a`}} {{lower `B`}} {{replace `a` `o` 1 `aa`}} {{replace_all `a` `o` `aa`}}'), 'b A b oa oo');
  assert.equal(render('{{ .Vars }} {{build `Host`}}'), '{{ .Vars }} <build.Host>');
  assert.equal(render('a {{- ` b` -}} c'), 'a bc');
  assert.equal(render('{{user `x` | upper}}'), 'EX');
});

test('legacy template errors use Go and Packer wording', () => {
  assert.equal(render('{{nope}}'), 'template: root:1: function "nope" not defined');
  assert.equal(render('echo {{env `HOME`}}'), 'template: root:1:7: executing "root" at <env `HOME`>: error calling env: env vars are not allowed here');
  assert.equal(render('{{consul_key `a`}}'), 'template: root:1:2: executing "root" at <consul_key `a`>: error calling consul_key: consul_key is not allowed here');
  assert.equal(render('{{upper}}'), 'template: root:1:2: executing "root" at <upper>: wrong number of args for upper: want 1 got 0');
  assert.match(render('{{split `a` `,` 3}}'), /the substring 3 was unavailable using the separator value, ,, only 1 values were found/);
  assert.equal(render('{{user `x`'), 'template: root:1: unclosed action');
});

test('Go time layouts', () => {
  const d = new Date(Date.UTC(2006, 0, 2, 15, 4, 5, 123));
  assert.equal(formatGoTime(d, 'Mon Jan _2 15:04:05 MST 2006'), 'Mon Jan  2 15:04:05 UTC 2006');
  assert.equal(formatGoTime(d, '06-1-2 3:4:5 PM .000'), '06-1-2 3:4:5 PM .123');
});

test('the parser reports Packer errors at the JSON value', () => {
  const src = '{\n  "builders": [{"name": "x"}],\n  "bogus": 1,\n  "post-processors": [[["nested"]]]\n}';
  const r = parseLegacyTemplate(src, 't.json');
  assert.equal(r.template, undefined);
  const details = r.diagnostics.map((d) => `${d.detail} @${d.subject?.start.line}:${d.subject?.start.column}`);
  assert.deepEqual(details.sort(), [
    "Unknown root level key in template: 'bogus' @3:3",
    "builder 1: missing 'type' @2:16",
    'post-processor 1.1: sequence not allowed to be nested in a sequence @4:24',
  ]);
});

test('a legacy template loads into the model: one build per builder, named as Packer names them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legacy-unit-'));
  try {
    writeFileSync(
      join(dir, 't.json'),
      JSON.stringify({
        variables: { pw: 'secret', a: 'x' },
        'sensitive-variables': ['pw'],
        builders: [{ type: 'null', name: 'one', communicator: 'none' }, { type: 'null', communicator: 'none' }],
        provisioners: [
          { type: 'shell-local', inline: ['echo {{user `a`}}'], only: ['one'], pause_before: '2s', max_retries: 3 },
          { type: 'shell-local', inline: ['a'], override: { null: { inline: ['b'] } } },
        ],
        'post-processors': ['manifest', [{ type: 'manifest', except: ['null'] }]],
      }),
    );
    writeFileSync(join(dir, 'v.json'), JSON.stringify({ a: 'file' }));
    const r = await loadTemplate('t.json', { env: {}, cwd: dir, inputs: [{ kind: 'file', path: 'v.json' }] });
    assert.deepEqual(r.diagnostics, []);
    const t = r.template!;
    assert.equal(t.variables.get('pw')?.sensitive, true);
    assert.equal(t.variables.get('a')?.value?.asString(), 'file');
    const builds = expandBuilds(t);
    assert.deepEqual(builds.map((b) => b.name), ['null', 'one']);
    const [nul, one] = builds;
    assert.equal(nul!.provisioners.length, 1);
    assert.equal(one!.provisioners.length, 2);
    assert.equal(one!.provisioners[0]!.pauseBefore, 2000);
    assert.equal(one!.provisioners[0]!.maxRetries, 3);
    assert.deepEqual(nul!.postProcessors.map((c) => c.length), [1]);
    assert.deepEqual(one!.postProcessors.map((c) => c.length), [1, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
