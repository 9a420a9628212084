import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Block, Expression, NativeBody, TemplatePart, Traverser } from '../../src/hcl/ast.js';
import { MAX_NESTING, parseConfig, parseExpression, parseTemplate } from '../../src/hcl/parser.js';

/** A compact, readable rendering of an expression tree (ranges left out). */
function show(e: Expression): string {
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      if (v.type === 'number') return v.text;
      if (v.type === 'bool') return String(v.value);
      if (v.type === 'null') return 'null';
      return JSON.stringify(v.value);
    }
    case 'template':
      return `tmpl(${showParts(e.parts)})`;
    case 'templateWrap':
      return `wrap(${show(e.wrapped)})`;
    case 'scopeTraversal':
      return e.root + e.traversal.map(showStep).join('');
    case 'relativeTraversal':
      return `rel(${show(e.source)})${e.traversal.map(showStep).join('')}`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')}${e.expandFinal ? '...' : ''})`;
    case 'conditional':
      return `(? ${show(e.cond)} ${show(e.then)} ${show(e.else)})`;
    case 'binary':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'unary':
      return `(${e.op === '-' ? 'neg' : '!'} ${show(e.operand)})`;
    case 'tuple':
      return `[${e.items.map(show).join(', ')}]`;
    case 'object':
      return `{${e.items.map((i) => `${show(i.key)}=${show(i.value)}`).join(', ')}}`;
    case 'objectKey':
      return e.forceNonLiteral ? `key(${show(e.wrapped)})` : show(e.wrapped);
    case 'for': {
      const head = `for ${e.keyVar ? `${e.keyVar},` : ''}${e.valueVar} in ${show(e.coll)}: `;
      const cond = e.condExpr ? ` if ${show(e.condExpr)}` : '';
      return e.keyExpr
        ? `{${head}${show(e.keyExpr)} => ${show(e.valExpr)}${e.group ? '...' : ''}${cond}}`
        : `[${head}${show(e.valExpr)}${cond}]`;
    }
    case 'index':
      return `idx(${show(e.collection)}, ${show(e.key)})`;
    case 'splat':
      return `splat(${show(e.source)}, ${show(e.each)})`;
    case 'anonSymbol':
      return '@';
    case 'parens':
      return `(paren ${show(e.expr)})`;
    case 'json':
      return 'json';
  }
}

function showStep(t: Traverser): string {
  if (t.kind === 'attr') return `.${t.name}`;
  if (t.kind === 'index') return `[${show(t.key)}]`;
  return '[*]';
}

function showParts(parts: TemplatePart[]): string {
  return parts.map((p) => {
    switch (p.kind) {
      case 'literal': return JSON.stringify(p.value);
      case 'interpolation': return `\${${show(p.expr)}}`;
      case 'if': return `%if ${show(p.cond)} {${showParts(p.then)}}${p.else ? ` else {${showParts(p.else)}}` : ''}`;
      case 'for': return `%for ${p.keyVar ? `${p.keyVar},` : ''}${p.valueVar} in ${show(p.coll)} {${showParts(p.body)}}`;
    }
  }).join(' ');
}

function expr(src: string): string {
  const { expr: e, diagnostics } = parseExpression(src, 'e.hcl');
  assert.deepEqual(diagnostics.map((d) => `${d.summary}: ${d.detail}`), [], `diagnostics for ${src}`);
  return show(e);
}

function summaries(src: string): string[] {
  return parseConfig(src, 't.pkr.hcl').diagnostics.map((d) => `${d.subject?.start.line}:${d.subject?.start.column} ${d.summary}`);
}

// ---- expressions -------------------------------------------------------------------------------

const expressions: [string, string][] = [
  // literals
  ['1', '1'],
  ['1.5e-3', '1.5e-3'],
  ['9007199254740993', '9007199254740993'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  // operators and precedence: || < && < == != < < > <= >= < + - < * / % < unary
  ['1 + 2 * 3', '(+ 1 (* 2 3))'],
  ['1 * 2 + 3', '(+ (* 1 2) 3)'],
  ['1 - 2 - 3', '(- (- 1 2) 3)'],
  ['8 / 4 % 3', '(% (/ 8 4) 3)'],
  ['a || b && c', '(|| a (&& b c))'],
  ['a && b || c', '(|| (&& a b) c)'],
  ['a == b && c != d', '(&& (== a b) (!= c d))'],
  ['a < b == c >= d', '(== (< a b) (>= c d))'],
  ['a <= b + 1', '(<= a (+ b 1))'],
  ['a > b', '(> a b)'],
  ['!a && b', '(&& (! a) b)'],
  ['-1 + 2', '(+ (neg 1) 2)'],
  ['- - 1', '(neg (neg 1))'],
  ['!a.b', '(! a.b)'],
  ['(1 + 2) * 3', '(* (paren (+ 1 2)) 3)'],
  ['a + b * c - d / e', '(- (+ a (* b c)) (/ d e))'],
  // conditionals
  ['a ? b : c', '(? a b c)'],
  ['a ? b : c ? d : e', '(? a b (? c d e))'],
  ['a || b ? 1 + 1 : 2', '(? (|| a b) (+ 1 1) 2)'],
  // traversals
  ['var.foo', 'var.foo'],
  ['a.b.c', 'a.b.c'],
  ['a[0]', 'a[0]'],
  ['a["k"]', 'a["k"]'],
  ['a.0.b', 'a[0].b'],
  ['a[b]', 'idx(a, b)'],
  ['a[b].c', 'rel(idx(a, b)).c'],
  ['f(x).y[1]', 'rel(f(x)).y[1]'],
  ['(a).b', 'rel((paren a)).b'],
  ['[1, 2][0]', 'rel([1, 2])[0]'],
  ['a[\n1\n]', 'a[1]'],
  // splats
  ['a[*]', 'splat(a, @)'],
  ['a[*].b.c', 'splat(a, rel(@).b.c)'],
  ['a[*].b[0]', 'splat(a, rel(@).b[0])'],
  ['a.*.b', 'splat(a, rel(@).b)'],
  ['a.*.b[0]', 'rel(splat(a, rel(@).b))[0]'],
  ['a.*.b.0', 'splat(a, rel(@).b[0])'],
  ['a[*][*]', 'splat(a, splat(@, @))'],
  // function calls
  ['f()', 'f()'],
  ['f(1, 2)', 'f(1, 2)'],
  ['f(1, 2,)', 'f(1, 2)'],
  ['f(\n  1,\n  2\n)', 'f(1, 2)'],
  ['f(xs...)', 'f(xs...)'],
  ['f(1, xs...)', 'f(1, xs...)'],
  ['lower(upper("a"))', 'lower(upper(tmpl("a")))'],
  ['provider::f(1)', 'provider::f(1)'],
  // tuples
  ['[]', '[]'],
  ['[1, "a", b]', '[1, tmpl("a"), b]'],
  ['[\n1,\n2,\n]', '[1, 2]'],
  // objects: = and :, commas or newlines, keys as identifiers, strings, parentheses
  ['{}', '{}'],
  ['{ a = 1, b = 2 }', '{a=1, b=2}'],
  ['{ a: 1 }', '{a=1}'],
  ['{\n a = 1\n b = 2\n}', '{a=1, b=2}'],
  ['{ "a b" = 1 }', '{tmpl("a b")=1}'],
  ['{ (a) = 1 }', '{key((paren a))=1}'],
  ['{ a.b = 1 }', '{a.b=1}'],
  ['{ "${k}" = 1 }', '{wrap(k)=1}'],
  // for expressions
  ['[for x in xs : x]', '[for x in xs: x]'],
  ['[for i, x in xs : x if i > 0]', '[for i,x in xs: x if (> i 0)]'],
  ['{for k, v in m : k => v}', '{for k,v in m: k => v}'],
  ['{for k, v in m : v => k...}', '{for k,v in m: v => k...}'],
  ['{for k, v in m : k => v if v != null}', '{for k,v in m: k => v if (!= v null)}'],
  ['[\n  for x in xs :\n  x\n]', '[for x in xs: x]'],
  // templates
  ['"hello"', 'tmpl("hello")'],
  ['""', 'tmpl("")'],
  ['"${x}"', 'wrap(x)'],
  ['"a${x}b"', 'tmpl("a" ${x} "b")'],
  ['"${x}${y}"', 'tmpl(${x} ${y})'],
  ['"\\n\\r\\t\\"\\\\"', 'tmpl("\\n\\r\\t\\"\\\\")'],
  ['"\\u00e9\\U0001F600"', 'tmpl("é😀")'],
  ['"$${x} %%{y} $ % $x"', 'tmpl("${x} %{y} $ % $x")'],
  ['"%{if a}y%{endif}"', 'tmpl(%if a {"y"})'],
  ['"%{if a}y%{else}n%{endif}"', 'tmpl(%if a {"y"} else {"n"})'],
  ['"%{for x in xs}${x},%{endfor}"', 'tmpl(%for x in xs {${x} ","})'],
  ['"%{for k, v in m}${k}%{endfor}"', 'tmpl(%for k,v in m {${k}})'],
  ['"%{if a}%{if b}x%{endif}%{endif}"', 'tmpl(%if a {%if b {"x"}})'],
  // strip markers trim the adjacent literal white space
  ['"a ${~ x ~} b"', 'tmpl("a" ${x} "b")'],
  ['"a ${x ~} b"', 'tmpl("a " ${x} "b")'],
  ['"%{ if a ~} yes %{~ else ~} no %{~ endif }"', 'tmpl(%if a {"yes"} else {"no"})'],
  // heredocs
  ['<<EOT\nhello\nEOT\n', 'tmpl("hello\\n")'],
  ['<<EOT\n  a ${x}\n  b\nEOT\n', 'tmpl("  a " ${x} "\\n  b\\n")'],
  ['<<-EOT\n    a\n      b\n    EOT\n', 'tmpl("a\\n  b\\n")'],
  ['<<-EOT\n    a\n\n    b\n  EOT\n', 'tmpl("a\\n\\nb\\n")'],
  ['<<-EOT\n  a\n${x}\n  EOT\n', 'tmpl("  a\\n" ${x} "\\n")'],
  ['<<EOT\n\\n $${x}\nEOT\n', 'tmpl("\\\\n ${x}\\n")'],
  ['<<EOT\r\nwin\r\nEOT\r\n', 'tmpl("win\\r\\n")'],
  ['<<EOT\nEOT\n', 'tmpl("")'],
  // a strip marker trims only the adjacent literal token, and heredoc literals are one per line
  ['<<EOT\n%{ for x in xs ~}\n${x}\n%{ endfor ~}\nEOT\n', 'tmpl(%for x in xs {"" ${x} "\\n"} "")'],
  ['<<EOT\n${x ~}\n\n  y\nEOT\n', 'tmpl(${x} "\\n  y\\n")'],
  // strip markers and `<<-` together, token by token (checked against packer 1.6.6's console)
  ['<<-EOT\n  %{ if true ~}\n  yes\n  %{ endif ~}\n  EOT\n', 'tmpl("" %if true {"  yes\\n"} "")'],
  ['<<-EOT\n  a ${"x" ~}\n\n  b\n  EOT\n', 'tmpl("a " ${tmpl("x")} "\\nb\\n")'],
  ['<<-EOT\n    a\n  ${x}\n    b\n  EOT\n', 'tmpl("  a\\n" ${x} "\\n  b\\n")'],
];

for (const [src, want] of expressions) {
  test(`parseExpression: ${JSON.stringify(src)}`, () => {
    assert.equal(expr(src), want);
  });
}

test('parseTemplate: a bare template (as for JSON strings)', () => {
  const r = parseTemplate('Hello, ${name}!\n%{ if x ~}\n  yes\n%{~ endif }', 't');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(show(r.expr), 'tmpl("Hello, " ${name} "!\\n" %if x {"  yes"})');
  assert.equal(show(parseTemplate('${x}', 't').expr), 'wrap(x)');
  assert.equal(show(parseTemplate('', 't').expr), 'tmpl("")');
  assert.equal(show(parseTemplate('a "quoted" \\n $', 't').expr), 'tmpl("a \\"quoted\\" \\\\n $")');
});

test('parseExpression: positions start where the caller says', () => {
  const r = parseExpression('a + b', 'cli', { line: 4, column: 10, byte: 100 });
  assert.deepEqual(r.expr.range, { filename: 'cli', start: { line: 4, column: 10, byte: 100 }, end: { line: 4, column: 15, byte: 105 } });
});

test('parseExpression: ranges of nodes', () => {
  const { expr: e } = parseExpression('f(a.b[0], "x${y}")', 'r.hcl');
  assert.equal(e.kind, 'call');
  if (e.kind !== 'call') return;
  const at = (r: { start: { column: number }; end: { column: number } }): string => `${r.start.column}-${r.end.column}`;
  assert.equal(at(e.range), '1-19');
  assert.equal(at(e.nameRange), '1-2');
  assert.equal(at(e.openParenRange), '2-3');
  assert.equal(at(e.closeParenRange), '18-19');
  const [trav, tmpl] = e.args;
  assert.equal(at(trav.range), '3-9');
  assert.equal(trav.kind === 'scopeTraversal' ? trav.traversal.map((s) => at(s.range)).join(' ') : '', '4-6 6-9');
  assert.equal(at(tmpl.range), '11-18');
  assert.equal(tmpl.kind === 'template' ? tmpl.parts.map((p) => at(p.range)).join(' ') : '', '12-13 13-17');
});

// ---- bodies ------------------------------------------------------------------------------------

function blockSummary(b: Block): string {
  const body = b.body as NativeBody;
  return `${b.type}${b.labels.map((l) => ` ${JSON.stringify(l)}`).join('')} {${body.attributes.map((a) => a.name).join(',')}${body.blocks.length ? `|${body.blocks.map(blockSummary).join(';')}` : ''}}`;
}

const bodies: [string, string, string][] = [
  ['attributes', 'a = 1\nb = "x"\n', 'a,b |'],
  ['no final newline', 'a = 1', 'a |'],
  ['comments of every kind', '# one\n// two\n/* three\n*/ a = 1 # trailing\nb = 2 // trailing\nc = /* inline */ 3\n', 'a,b,c |'],
  ['blocks with any number of labels', 'packer {}\nvariable "x" {}\nsource "null" "basic" {}\nx a "b" c {}\n', '| packer {}; variable "x" {}; source "null" "basic" {}; x "a" "b" "c" {}'],
  ['nested blocks', 'build {\n  name = "b"\n  provisioner "shell" {\n    inline = ["x"]\n  }\n}\n', '| build {name|provisioner "shell" {inline}}'],
  ['one-line blocks', 'a { b = 1 }\nc "d" {}\n', '| a {b}; c "d" {}'],
  ['CRLF line endings', 'a = 1\r\nb {\r\n  c = 2\r\n}\r\n', 'a | b {c}'],
  ['byte-order mark', '\uFEFFa = 1\n', 'a |'],
  ['escapes in labels', 'x "a\\"b" {}\n', '| x "a\\"b" {}'],
];

for (const [name, src, want] of bodies) {
  test(`parseConfig: ${name}`, () => {
    const { file, diagnostics } = parseConfig(src, 't.pkr.hcl');
    assert.deepEqual(diagnostics, []);
    const body = file.body as NativeBody;
    assert.equal(`${body.attributes.map((a) => a.name).join(',')} | ${body.blocks.map(blockSummary).join('; ')}`.trim(), want);
  });
}

test('parseConfig: ranges of attributes, blocks and bodies', () => {
  const src = 'a = 1\nsource "null" "x" {\n  b = "two"\n}\n';
  const body = parseConfig(src, 'r.pkr.hcl').file.body as NativeBody;
  const s = (r: { start: { line: number; column: number; byte: number }; end: { line: number; column: number; byte: number } }): string =>
    `${r.start.line}:${r.start.column}(${r.start.byte})-${r.end.line}:${r.end.column}(${r.end.byte})`;
  assert.equal(s(body.attributes[0].range), '1:1(0)-1:6(5)');
  assert.equal(s(body.attributes[0].nameRange), '1:1(0)-1:2(1)');
  const block = body.blocks[0];
  assert.equal(s(block.range), '2:1(6)-4:2(39)');
  assert.equal(s(block.typeRange), '2:1(6)-2:7(12)');
  assert.deepEqual(block.labelRanges.map(s), ['2:8(13)-2:14(19)', '2:15(20)-2:18(23)']);
  const inner = block.body as NativeBody;
  assert.equal(s(inner.range), '2:19(24)-4:2(39)');
  assert.equal(s(inner.endRange), '4:1(38)-4:2(39)');
  assert.equal(s(inner.attributes[0].expr.range), '3:7(32)-3:12(37)');
  assert.equal(s(body.range), '1:1(0)-5:1(40)');
});

// ---- errors ------------------------------------------------------------------------------------

const errors: [string, string, string[]][] = [
  ['two attributes on a line', 'a = 1 b = 2\n', ['1:7 Missing newline after argument']],
  ['comma after an attribute', 'a = 1, b = 2\n', ['1:6 Unexpected comma after argument']],
  ['missing value', 'a =\nb = 2\n', ['1:4 Invalid expression']],
  ['missing value at EOF', 'a =', ['1:4 Missing expression']],
  ['attribute redefined', 'a = 1\nb = 2\na = 3\n', ['3:1 Attribute redefined']],
  ['a bare word', 'a\n', ['1:1 Argument or block definition required']],
  ['quoted argument name', '"a" = 1\n', ['1:1 Invalid argument name']],
  ['unclosed block', 'x {\n  a = 1\n', ['1:3 Unclosed configuration block']],
  ['stray closing brace', '}\n', ['1:1 Argument or block definition required']],
  ['block with equals', 'x "a" = {\n}\n', ['1:7 Invalid block definition']],
  ['block brace on the next line', 'x "a"\n{\n}\n', ['1:6 Invalid block definition']],
  ['block label of another kind', 'x 1 {}\n', ['1:1 Argument or block definition required']],
  ['block label of another kind after a label', 'x "a" 1 {}\n', ['1:7 Invalid block definition']],
  ['template in a label', 'x "${a}" {}\n', ['1:4 Invalid string literal']],
  ['one-line block with two arguments', 'x { a = 1, b = 2 }\n', ['1:10 Invalid single-argument block definition']],
  ['one-line block closed on another line', 'x { a = 1\n}\n', ['1:10 Invalid single-argument block definition']],
  ['nested block in a one-line block', 'x { y {} }\n', ['1:5 Argument definition required']],
  ['block not followed by a newline', 'x {} y {}\n', ['1:6 Missing newline after block definition']],
  ['two errors are both reported', 'a = 1 2\nb = \nc = 3\n', ['1:7 Missing newline after argument', '2:5 Invalid expression']],
  ['missing key/value separator', 'a = { b c }\n', ['1:9 Missing key/value separator']],
  ['missing attribute value in an object', 'a = { b, c = 1 }\n', ['1:8 Missing attribute value']],
  ['key without a value before the brace', 'a = { b }\n', ['1:9 Missing key/value separator']],
  ['missing item separator', 'a = [1 2]\n', ['1:8 Missing item separator']],
  ['unterminated tuple', 'a = [1', ['1:5 Unterminated tuple constructor expression']],
  ['tuple ending after a comma', 'a = [1,', ['1:8 Missing expression']],
  ['unterminated object', 'a = {b = 1', ['1:5 Unterminated object constructor expression']],
  ['missing argument separator', 'a = f(1 2)\n', ['1:9 Missing argument separator']],
  ['unterminated call', 'a = f(1', ['1:5 Unterminated function call']],
  ['expansion not last', 'a = f(x..., 1)\n', ['1:8 Missing closing parenthesis']],
  ['unbalanced parentheses', 'a = (1 2)\n', ['1:8 Unbalanced parentheses']],
  ['missing false branch', 'a = b ? c\n', ['1:10 Missing false expression in conditional']],
  ['attribute name after a dot', 'a = b.\n', ['1:7 Invalid attribute name']],
  ['chained legacy index', 'a = b.0.1\n', ['1:7 Invalid legacy index syntax']],
  ['invalid number', 'a = 1.2.3\n', ['1:5 Invalid number literal']],
  ['splat without its bracket', 'a = b[*\n', ['1:8 Missing close bracket on splat index']],
  ['index without its bracket', 'a = b[1 2]\n', ['1:9 Missing close bracket on index']],
  ['for without a variable', 'a = [for 1 in x: x]\n', ["1:10 Invalid 'for' expression"]],
  ['for without in', 'a = [for x y: x]\n', ["1:12 Invalid 'for' expression"]],
  ['for without a colon', 'a = [for x in y x]\n', ["1:17 Invalid 'for' expression"]],
  ['object for without a key', 'a = {for x in y: x}\n', ["1:18 Invalid 'for' expression"]],
  ['tuple for with a key', 'a = [for x in y: x => x]\n', ["1:18 Invalid 'for' expression"]],
  ['tuple for with grouping', 'a = [for x in y: x...]\n', ["1:19 Invalid 'for' expression"]],
  ['newline inside a quoted string', 'a = "x\ny"\n', ['1:7 Invalid multi-line string', '1:7 Unterminated template string']],
  ['unterminated string at EOF', 'a = "x', ['1:7 Unterminated template string']],
  ['unclosed interpolation', 'a = "${x"\n', ['1:10 Invalid multi-line string', '1:6 Unclosed template interpolation sequence']],
  ['extra characters in an interpolation', 'a = "${x y}"\n', ['1:10 Extra characters after interpolation expression']],
  ['colon in an interpolation', 'a = "${x:y}"\n', ['1:9 Extra characters after interpolation expression']],
  ['unterminated heredoc', 'a = <<EOT\nx\n', ['3:1 Unterminated template string']],
  ['heredoc marker without a newline at EOF', 'a = <<EOT\nx\nEOT', ['3:4 Unterminated template string']],
  ['missing endif', 'a = "%{if x}y"\n', ['1:14 Unexpected end of template']],
  ['unexpected endfor', 'a = "%{endfor}"\n', ['1:6 Unexpected endfor directive']],
  ['else in a for', 'a = "%{for x in y}%{else}%{endfor}"\n', ['1:19 Unexpected else directive', '1:26 Unexpected endfor directive']],
  ['second else', 'a = "%{if x}%{else}%{else}%{endif}"\n', ['1:20 Unexpected else directive', '1:27 Unexpected endif directive']],
  ['unknown directive', 'a = "%{iff x}%{endif}"\n', ['1:8 Invalid template control keyword', '1:14 Unexpected endif directive']],
  ['directive without keyword', 'a = "%{ 1 }"\n', ['1:9 Invalid template directive']],
  ['bad escape', 'a = "\\q"\n', ['1:6 Invalid escape sequence']],
  ['short unicode escape', 'a = "\\u12"\n', ['1:6 Invalid escape sequence']],
  ['surrogate escape', 'a = "\\ud800"\n', ['1:6 Invalid escape sequence']],
  ['single quotes', "a = 'x'\n", ['1:5 Invalid character', '1:5 Invalid expression']],
  ['semicolon', 'a = 1;\n', ['1:6 Invalid character', '1:6 Missing newline after argument']],
  ['bitwise operator', 'a = b & c\n', ['1:7 Unsupported operator', '1:7 Missing newline after argument']],
  ['invalid character', 'a = @\n', ['1:5 Invalid character', '1:5 Invalid expression']],
  ['unterminated block comment', 'a = 1 /* x', ['1:7 Unterminated comment']],
];

for (const [name, src, want] of errors) {
  test(`parseConfig error: ${name}`, () => {
    assert.deepEqual(summaries(src), want);
  });
}

test('parseConfig error details use HCL wording', () => {
  const d = parseConfig('a = 1\na = 2\n', 'dup.pkr.hcl').diagnostics[0];
  assert.equal(d.detail, 'The argument "a" was already set at dup.pkr.hcl:1,1-2. Each argument may be set only once.');
  const k = parseConfig('a = "%{ endfi }"\n', 'k.pkr.hcl').diagnostics[0];
  assert.equal(k.detail, '"endfi" is not a valid template control keyword. Did you mean "endif"?');
  const u = parseConfig('x {\n', 'u.pkr.hcl').diagnostics[0];
  assert.equal(u.detail, 'There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.');
});

test('parseExpression: extra characters after an expression', () => {
  const r = parseExpression('1 2', 'e');
  assert.deepEqual(r.diagnostics.map((d) => `${d.summary}: ${d.detail}`), ['Extra characters after expression: An expression was successfully parsed, but extra characters were found after it.']);
});

// ---- robustness --------------------------------------------------------------------------------

test('nesting deeper than the limit is one diagnostic, not a stack overflow', () => {
  const deep = 100_000;
  const inputs = [
    `a = ${'('.repeat(deep)}1${')'.repeat(deep)}\n`,
    `a = ${'['.repeat(deep)}${']'.repeat(deep)}\n`,
    `a = ${'{a='.repeat(deep)}1${'}'.repeat(deep)}\n`,
    `a = ${'"${'.repeat(deep)}1${'}"'.repeat(deep)}\n`,
    `a = ${'!'.repeat(deep)}b\n`,
    `a = b${'[*]'.repeat(deep)}\n`,
    `a = "${'%{if b}'.repeat(deep)}${'%{endif}'.repeat(deep)}"\n`,
    `${'a {\n'.repeat(deep)}${'}\n'.repeat(deep)}`,
    `a = ${Array(deep).fill('b').join(' + ')}\n`,
    `a = b${'[c]'.repeat(deep)}\n`,
  ];
  for (const src of inputs) {
    const { diagnostics } = parseConfig(src, 'deep.pkr.hcl');
    assert.deepEqual(diagnostics.map((d) => d.summary), ['Nesting too deep'], src.slice(0, 20));
  }
});

test('nesting up to the limit parses', () => {
  const depth = Math.floor(MAX_NESTING / 2) - 2;
  const src = `a = ${'['.repeat(depth)}${']'.repeat(depth)}\nb = ${'"${'.repeat(depth / 2)}1${'}"'.repeat(depth / 2)}\n${'x {\n'.repeat(depth)}${'}\n'.repeat(depth)}`;
  assert.deepEqual(parseConfig(src, 'ok.pkr.hcl').diagnostics, []);
});

test('a heredoc of many lines parses', () => {
  const { file, diagnostics } = parseConfig(`a = <<-EOT\n${'  x\n'.repeat(200_000)}  EOT\n`, 'lines.pkr.hcl');
  assert.deepEqual(diagnostics, []);
  const e = (file.body as NativeBody).attributes[0].expr;
  assert.equal(e.kind === 'template' && e.parts[0].kind === 'literal' ? e.parts[0].value : '', 'x\n'.repeat(200_000));
});

test('a large string parses to its exact value', () => {
  const body = 'x'.repeat(5_000_000);
  const { file, diagnostics } = parseConfig(`a = "${body}"\n`, 'big.pkr.hcl');
  assert.deepEqual(diagnostics, []);
  const e = (file.body as NativeBody).attributes[0].expr;
  assert.equal(e.kind === 'template' && e.parts[0].kind === 'literal' ? e.parts[0].value.length : -1, body.length);
});
