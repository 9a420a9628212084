/**
 * Differential tests of `validate`, `inspect` and `console` on every legacy JSON fixture
 * (test/fixtures/legacy/, the failing ones included): Packer 1.6.6 and builder run in the
 * fixture's folder with the fixture's `-var`/`-var-file` (and, for validate, `-only`/`-except`)
 * flags. Both must exit alike; output must be the same bytes, with these named normalisations:
 *
 * - a template error (validate or inspect exiting 1): builder prints its diagnostic with the file,
 *   line, column and source line in the JSON (the issue asks for them) and does not wrap the
 *   detail at 80 columns, and it reports each error as its own diagnostic where Packer prints
 *   Go's list ("2 errors occurred:" and "* " items); so there each paragraph, or item, of
 *   Packer's message (its "Error: " and "Failed to parse template: " prefixes dropped, white
 *   space collapsed) must appear in builder's output (white space collapsed), and nothing else
 *   is compared;
 * - `inspect -machine-readable`: the leading Unix timestamps; when it fails, only the exit code
 *   (builder prints its diagnostic, Packer a `ui,error` record);
 * - console's `variables`: the lines are compared sorted (Packer prints them in Go's random map
 *   order).
 *
 * Skipped, with the reason, when Packer is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builderCli, PACKER, packerAvailable } from './harness.js';
import { legacyFixtures, run, templateFlags, type Ran } from './legacy-fixtures.js';

const skip = packerAvailable ? false : 'packer (1.6.6) is not installed at /usr/bin/packer';

const both = (args: readonly string[], cwd: string, input?: string, fifo = false): Promise<[Ran, Ran]> =>
  Promise.all([run(PACKER, args, cwd, input, fifo), run(process.execPath, [builderCli, ...args], cwd, input, fifo)]);

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Compares two runs as the file comment says. */
function assertSame(packer: Ran, builder: Ran, what: string): void {
  const context = `\n--- packer (${packer.code}) ---\n${packer.stdout}${packer.stderr}\n--- builder (${builder.code}) ---\n${builder.stdout}${builder.stderr}`;
  assert.equal(builder.code, packer.code, `${what}: exit code${context}`);
  if (packer.code === 0) {
    assert.equal(builder.stdout, packer.stdout, `${what}: stdout${context}`);
    assert.equal(builder.stderr, packer.stderr, `${what}: stderr${context}`);
    return;
  }
  const ours = collapse(`${builder.stdout}${builder.stderr}`);
  for (const paragraph of `${packer.stdout}${packer.stderr}`.split(/\n\s*\n/)) {
    for (const item of paragraph.replace(/^Error: /, '').replace(/^Failed to parse template: /, '').replace(/^\d+ errors? occurred:\n/, '').split(/^\t\* /m)) {
      const text = collapse(item);
      if (text !== '') assert.ok(ours.includes(text), `${what}: Packer's message ("${text}") in builder's${context}`);
    }
  }
  assert.doesNotMatch(builder.stderr, /\n\s+at |Internal error/, `${what}: a clear message${context}`);
}

const cases = legacyFixtures();

/** Fixtures whose validate message differs from Packer 1.6.6's, with why (the exit code is compared). */
const VALIDATE_MESSAGE_DIFFERS: Readonly<Record<string, string>> = {
  'vault-in-variables': "1.6.6 calls Vault and reports Vault's failure; builder has no Vault client and says so",
  'consul-key-in-variables': "1.6.6 calls Consul and reports Consul's failure; builder has no Consul client and says so",
};

test('legacy fixtures: validate as Packer 1.6.6', { skip, concurrency: 2 }, async (t) => {
  for (const c of cases) {
    await t.test(c.name, async () => {
      const [p, b] = await both(['validate', ...templateFlags(c.opts.args ?? [], true), 'template.json'], c.dir);
      if (VALIDATE_MESSAGE_DIFFERS[c.name]) assert.equal(b.code, p.code, `validate: exit code\n${p.stdout}${b.stderr}`);
      else assertSame(p, b, 'validate');
    });
  }
});

test('legacy fixtures: inspect as Packer 1.6.6', { skip, concurrency: 2 }, async (t) => {
  for (const c of cases) {
    await t.test(c.name, async () => {
      const flags = templateFlags(c.opts.args ?? [], false);
      const [p, b] = await both(['inspect', ...flags, 'template.json'], c.dir);
      assertSame(p, b, 'inspect');
      const [pm, bm] = await both(['inspect', '-machine-readable', ...flags, 'template.json'], c.dir);
      const stamp = (r: Ran): Ran => ({ ...r, stdout: r.stdout.replace(/^\d+,/gm, 'T,') });
      if (pm.code === 0) assertSame(stamp(pm), stamp(bm), 'inspect -machine-readable');
      else assert.equal(bm.code, pm.code, `inspect -machine-readable: exit code\n${bm.stderr}`);
    });
  }
});

/** Lines that fail in console, each printed as it comes (piped, Packer prints only the last result). */
const FAILING = ['{{env `HOME`}}', '{{build_name}}', '{{build_type}}', '{{packer_version}}', '{{nope}}', '{{build `ID`}}', '{{consul_key `a`}}', '{{user `x`'];

/** One line that exercises what succeeds: every variable, then the context-free functions. */
function succeeding(templateFile: string): string {
  const root = JSON.parse(readFileSync(templateFile, 'utf8')) as { variables?: Record<string, unknown> };
  const vars = Object.keys(root.variables ?? {}).map((k) => `${k}={{user \`${k}\`}}`);
  return [...vars, 'undeclared={{user `undeclared`}}', '{{template_dir}}', '{{pwd}}', '{{upper "a"}}{{lower "B"}}', '{{split "a,b" "," 1}}', '{{ .Name }}', '{{replace_all "a" "b" "aa"}}'].join('|');
}

test('legacy fixtures: console as Packer 1.6.6', { skip, concurrency: 2 }, async (t) => {
  for (const c of cases) {
    await t.test(c.name, async () => {
      const flags = templateFlags(c.opts.args ?? [], false);
      const ok = succeeding(join(c.dir, 'template.json'));
      // A named pipe: `exit` is ignored, only the last result is printed.
      const [p, b] = await both(['console', ...flags, 'template.json'], c.dir, [...FAILING, '', 'exit', ok].join('\n') + '\n', true);
      assertSame(p, b, 'console (named pipe)');
      // Any other stdin: every result is printed, `exit` ends it.
      const [pl, bl] = await both(['console', ...flags, 'template.json'], c.dir, [...FAILING, ok, '', 'exit', ok].join('\n') + '\n');
      assertSame(pl, bl, 'console (socket)');
      const [pv, bv] = await both(['console', ...flags, 'template.json'], c.dir, 'variables\n');
      const sorted = (r: Ran): Ran => (r.code === 0 ? { ...r, stdout: r.stdout.split('\n').sort().join('\n') } : r);
      assertSame(sorted(pv), sorted(bv), 'console: variables');
    });
  }
});

test('legacy console: help, and no template with -config-type=json', { skip }, async () => {
  const dir = cases[0]!.dir;
  const [p, b] = await both(['console', 'template.json'], dir, 'help\n', true);
  assertSame(p, b, 'help');
  // Packer 1.6.6 reads a console without a template as JSON; builder does when asked.
  const input = '{{user `a`}}\n{{template_dir}}\n';
  const [pn, bn] = await Promise.all([
    run(PACKER, ['console', '-var', 'a=1'], dir, input),
    run(process.execPath, [builderCli, 'console', '-config-type=json', '-var', 'a=1'], dir, input),
  ]);
  assertSame(pn, bn, 'no template');
});
