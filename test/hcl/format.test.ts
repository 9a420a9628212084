/**
 * The layout rules of `formatSource` (Packer 1.6.6's `packer fmt`), one table row per rule, and
 * idempotence over every template the project ships. Every expected output here was checked
 * against `packer fmt` of Packer 1.6.6 (test/differential/fmt.test.ts compares a larger corpus).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatSource } from '../../src/hcl/format.js';

const rules: { rule: string; input: string; expected: string }[] = [
  // Indentation
  { rule: 'two spaces per block level', input: 'a {\nb {\nc = 1\n}\n}\n', expected: 'a {\n  b {\n    c = 1\n  }\n}\n' },
  { rule: 'over-indented lines move left', input: '      a = 1\n', expected: 'a = 1\n' },
  { rule: 'tuple items indent', input: 'a = [\n1,\n2,\n]\n', expected: 'a = [\n  1,\n  2,\n]\n' },
  { rule: 'call arguments indent', input: 'a = f(\nx,\ny\n)\n', expected: 'a = f(\n  x,\n  y\n)\n' },
  { rule: 'brackets opened on one line dedent once', input: 'a = [[\n1\n]]\n', expected: 'a = [[\n  1\n]]\n' },
  { rule: 'a line closing what it opens keeps its level', input: 'a = [1,\n2]\n', expected: 'a = [1,\n2]\n' },
  { rule: 'tabs between tokens become spaces', input: 'a {\n\tb\t=\t1\n}\n', expected: 'a {\n  b = 1\n}\n' },
  // Spacing
  { rule: 'one space around =', input: 'a=1\n', expected: 'a = 1\n' },
  { rule: 'binary operators are spaced', input: 'a = 1+2*3-4/5%6\n', expected: 'a = 1 + 2 * 3 - 4 / 5 % 6\n' },
  { rule: 'comparison and logic operators are spaced', input: 'a = b>=c&&d!=e||f<g\n', expected: 'a = b >= c && d != e || f < g\n' },
  { rule: 'unary minus after = stays tight', input: 'a = - 1\n', expected: 'a = -1\n' },
  { rule: 'unary minus after an operator stays tight', input: 'a = 1- -1\n', expected: 'a = 1 - -1\n' },
  { rule: 'unary minus after a bracket or comma stays tight', input: 'a = [- 1, - 2]\n', expected: 'a = [-1, -2]\n' },
  { rule: 'a space follows ! (as Packer 1.6.6 writes it)', input: 'a = !b\n', expected: 'a = ! b\n' },
  { rule: 'no space inside [ ] and ( )', input: 'a = f( [ 1 , 2 ] )\n', expected: 'a = f([1, 2])\n' },
  { rule: 'no space between a function name and (', input: 'a = f (1)\n', expected: 'a = f(1)\n' },
  { rule: 'spaces inside braces', input: 'a = {b=1}\n', expected: 'a = { b = 1 }\n' },
  { rule: 'empty braces stay together', input: 'a { }\nb = { }\n', expected: 'a {}\nb = {}\n' },
  { rule: 'no space around dots', input: 'a = b . c . d\n', expected: 'a = b.c.d\n' },
  { rule: 'no space before an index', input: 'a = b [0] [1]\n', expected: 'a = b[0][1]\n' },
  { rule: 'splats are tight', input: 'a = b [*] . c\n', expected: 'a = b[*].c\n' },
  { rule: 'no space before ...', input: 'a = f(b ...)\n', expected: 'a = f(b...)\n' },
  { rule: 'conditional operators are spaced', input: 'a = b?c:d\n', expected: 'a = b ? c : d\n' },
  { rule: 'colons in objects get a space on each side', input: 'a = {b:1}\n', expected: 'a = { b : 1 }\n' },
  { rule: 'for expressions', input: 'a = [for x in [1,2]: x]\n', expected: 'a = [for x in [1, 2] : x]\n' },
  { rule: 'object for with =>', input: 'a = {for k,v in m: k=>v...}\n', expected: 'a = { for k, v in m : k => v... }\n' },
  { rule: 'labels are one space apart', input: 'source   "a"    "b"{\n}\n', expected: 'source "a" "b" {\n}\n' },
  { rule: 'one-line blocks', input: 'a {b=1}\n', expected: 'a { b = 1 }\n' },
  { rule: 'trailing spaces are removed', input: 'a = 1   \n', expected: 'a = 1\n' },
  // Templates
  { rule: 'interpolations are tight', input: 'a = "x${ b }y"\n', expected: 'a = "x${b}y"\n' },
  { rule: 'strip markers stay', input: 'a = "${~ b ~}"\n', expected: 'a = "${~b~}"\n' },
  { rule: 'directives are tight', input: 'a = "%{ if b }x%{ endif }"\n', expected: 'a = "%{if b}x%{endif}"\n' },
  { rule: 'adjacent sequences stay adjacent', input: 'a = "${b}${c}%{if d}e%{endif}"\n', expected: 'a = "${b}${c}%{if d}e%{endif}"\n' },
  { rule: 'an object right inside ${ } keeps its braces apart', input: 'a = "${{b=1}}"\n', expected: 'a = "${ { b = 1 } }"\n' },
  { rule: 'literal text is untouched', input: 'a = "  x  =  y  "\n', expected: 'a = "  x  =  y  "\n' },
  { rule: 'heredoc text is never re-indented', input: 'a {\nb = <<EOT\n  x ${ y }\n    z\n  EOT\n}\n', expected: 'a {\n  b = <<EOT\n  x ${y}\n    z\n  EOT\n}\n' },
  // Alignment
  { rule: '= aligns in a run of attributes', input: 'a = 1\nbbb = 2\ncc = 3\n', expected: 'a   = 1\nbbb = 2\ncc  = 3\n' },
  { rule: 'a blank line ends the run', input: 'a = 1\n\nbbb = 2\n', expected: 'a = 1\n\nbbb = 2\n' },
  { rule: 'a comment line ends the run', input: 'a = 1\n# c\nbbb = 2\n', expected: 'a = 1\n# c\nbbb = 2\n' },
  { rule: 'a multi-line value ends the run', input: 'a = 1\nbb = [\n1,\n]\nccc = 2\n', expected: 'a = 1\nbb = [\n  1,\n]\nccc = 2\n' },
  { rule: 'trailing comments align', input: 'a = 1 # x\nbbb = 22 # y\n', expected: 'a   = 1  # x\nbbb = 22 # y\n' },
  { rule: 'widths count characters, not bytes', input: 'é = 1\nab = 2\n', expected: 'é  = 1\nab = 2\n' },
  { rule: 'a trailing block comment is part of the value', input: 'a = 1 /* x */\nbb = 2\n', expected: 'a  = 1 /* x */\nbb = 2\n' },
  // Comments and lines
  { rule: 'standalone comments indent with their level', input: 'a {\n      # c\n// d\n}\n', expected: 'a {\n  # c\n  // d\n}\n' },
  { rule: 'block comment text is untouched', input: 'a {\n/* x\n      y */\n}\n', expected: 'a {\n  /* x\n      y */\n}\n' },
  { rule: 'blank-line runs are kept', input: 'a = 1\n\n\n\nb = 2\n\n\n', expected: 'a = 1\n\n\n\nb = 2\n\n\n' },
  { rule: 'CRLF line ends are kept', input: 'a=1\r\nb {\r\nc=2\r\n}\r\n', expected: 'a = 1\r\nb {\r\n  c = 2\r\n}\r\n' },
  { rule: 'no final newline is added', input: 'a=1', expected: 'a = 1' },
  { rule: 'the byte-order mark is dropped', input: '\uFEFFa=1\n', expected: 'a = 1\n' },
  { rule: 'empty input', input: '', expected: '' },
  { rule: 'whitespace before the end of the file counts in bytes', input: '\uFEFF a = 1  ', expected: 'a = 1  ' },
  { rule: 'only a byte-order mark and spaces', input: '\uFEFF  ', expected: '     ' },
];

for (const { rule, input, expected } of rules) {
  test(`fmt rule: ${rule}`, () => {
    const { output, diagnostics } = formatSource(input, 'rule.pkr.hcl');
    assert.deepEqual(diagnostics, []);
    assert.equal(output, expected);
    assert.equal(formatSource(output, 'rule.pkr.hcl').output, output, 'formatting is idempotent');
  });
}

test('a file with syntax errors is returned unchanged, with the errors', () => {
  const source = 'a = {\n  b=1\n';
  const { output, diagnostics } = formatSource(source, 'bad.pkr.hcl');
  assert.equal(output, source);
  assert.ok(diagnostics.some((d) => d.severity === 'error'));
  assert.ok(diagnostics.every((d) => d.subject === undefined || d.subject.filename === 'bad.pkr.hcl'));
});

function templatesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...templatesUnder(p));
    else if (name.endsWith('.pkr.hcl') || name.endsWith('.pkrvars.hcl')) out.push(p);
  }
  return out;
}

test('every template in examples/ and test/fixtures/ formats idempotently', () => {
  const files = [...templatesUnder('examples'), ...templatesUnder('test/fixtures')];
  assert.ok(files.length >= 40, `found only ${files.length} templates`);
  let formatted = 0;
  for (const file of files) {
    const once = formatSource(readFileSync(file, 'utf8'), file);
    if (once.diagnostics.some((d) => d.severity === 'error')) continue;
    formatted++;
    assert.equal(formatSource(once.output, file).output, once.output, `${file} is not stable under fmt`);
  }
  assert.ok(formatted >= 40, `only ${formatted} templates were formattable`);
});

test('the shipped examples are already in canonical layout', () => {
  for (const file of templatesUnder('examples')) {
    const source = readFileSync(file, 'utf8');
    assert.equal(formatSource(source, file).output, source, `${file} is not formatted`);
  }
});
