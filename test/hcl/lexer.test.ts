import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lex } from '../../src/hcl/lexer.js';

/** Compact view of the significant tokens: `Type:bytes`, without spaces and the final EOF. */
function view(source: string): string[] {
  return lex(source, 't.hcl')
    .tokens.filter((t) => t.type !== 'Spaces' && t.type !== 'EOF')
    .map((t) => `${t.type}:${t.bytes}`);
}

const cases: { name: string; src: string; want: string[] }[] = [
  { name: 'attribute', src: 'a = 1\n', want: ['Ident:a', 'Equal:=', 'NumberLit:1', 'Newline:\n'] },
  { name: 'CRLF newline', src: 'a\r\n', want: ['Ident:a', 'Newline:\r\n'] },
  { name: 'identifier with dashes', src: 'foo-bar_1', want: ['Ident:foo-bar_1'] },
  { name: 'unicode identifier', src: 'héllo', want: ['Ident:héllo'] },
  { name: 'numbers', src: '1 1.5 1e3 1.5E-3 1.', want: ['NumberLit:1', 'NumberLit:1.5', 'NumberLit:1e3', 'NumberLit:1.5E-3', 'NumberLit:1', 'Dot:.'] },
  { name: 'legacy index is a number literal', src: 'a.0.b', want: ['Ident:a', 'Dot:.', 'NumberLit:0', 'Dot:.', 'Ident:b'] },
  {
    name: 'operators',
    src: '== != <= >= < > && || ! + - * / % ? : => ... . , = ::',
    want: ['EqualOp:==', 'NotEqual:!=', 'LessThanEq:<=', 'GreaterThanEq:>=', 'LessThan:<', 'GreaterThan:>', 'And:&&', 'Or:||', 'Bang:!', 'Plus:+', 'Minus:-', 'Star:*', 'Slash:/', 'Percent:%', 'Question:?', 'Colon::', 'FatArrow:=>', 'Ellipsis:...', 'Dot:.', 'Comma:,', 'Equal:=', 'DoubleColon:::'],
  },
  { name: 'brackets', src: '{[()]}', want: ['OBrace:{', 'OBrack:[', 'OParen:(', 'CParen:)', 'CBrack:]', 'CBrace:}'] },
  { name: 'hash comment includes newline', src: '# hi\na', want: ['Comment:# hi\n', 'Ident:a'] },
  { name: 'slash comment includes CRLF', src: '// hi\r\na', want: ['Comment:// hi\r\n', 'Ident:a'] },
  { name: 'comment at EOF', src: '# end', want: ['Comment:# end'] },
  { name: 'block comment', src: '/* a\n*/ b', want: ['Comment:/* a\n*/', 'Ident:b'] },
  { name: 'first */ ends a block comment', src: '/* a */ b /* c */', want: ['Comment:/* a */', 'Ident:b', 'Comment:/* c */'] },
  { name: 'quoted string', src: '"a b"', want: ['OQuote:"', 'QuotedLit:a b', 'CQuote:"'] },
  { name: 'escapes stay raw', src: '"a\\"b\\n"', want: ['OQuote:"', 'QuotedLit:a\\"b\\n', 'CQuote:"'] },
  {
    name: 'interpolation',
    src: '"x${a}y"',
    want: ['OQuote:"', 'QuotedLit:x', 'TemplateInterp:${', 'Ident:a', 'TemplateSeqEnd:}', 'QuotedLit:y', 'CQuote:"'],
  },
  {
    name: 'strip markers',
    src: '"${~a~}"',
    want: ['OQuote:"', 'TemplateInterp:${~', 'Ident:a', 'TemplateSeqEnd:~}', 'CQuote:"'],
  },
  {
    name: 'directive',
    src: '"%{if a}b%{endif}"',
    want: ['OQuote:"', 'TemplateControl:%{', 'Ident:if', 'Ident:a', 'TemplateSeqEnd:}', 'QuotedLit:b', 'TemplateControl:%{', 'Ident:endif', 'TemplateSeqEnd:}', 'CQuote:"'],
  },
  { name: 'escaped sequences are literal', src: '"$${a} %%{b} $ %"', want: ['OQuote:"', 'QuotedLit:$${a} %%{b} $ %', 'CQuote:"'] },
  {
    name: 'braces nested inside an interpolation',
    src: '"${ {a = 1} }"',
    want: ['OQuote:"', 'TemplateInterp:${', 'OBrace:{', 'Ident:a', 'Equal:=', 'NumberLit:1', 'CBrace:}', 'TemplateSeqEnd:}', 'CQuote:"'],
  },
  {
    name: 'string nested inside an interpolation',
    src: '"${"in"}"',
    want: ['OQuote:"', 'TemplateInterp:${', 'OQuote:"', 'QuotedLit:in', 'CQuote:"', 'TemplateSeqEnd:}', 'CQuote:"'],
  },
  { name: 'newline in quoted string', src: '"a\nb"', want: ['OQuote:"', 'QuotedLit:a', 'QuotedNewline:\n', 'QuotedLit:b', 'CQuote:"'] },
  {
    name: 'heredoc',
    src: 'x = <<EOT\nhello ${n}\nEOT\n',
    want: ['Ident:x', 'Equal:=', 'OHeredoc:<<EOT\n', 'StringLit:hello ', 'TemplateInterp:${', 'Ident:n', 'TemplateSeqEnd:}', 'StringLit:\n', 'CHeredoc:EOT', 'Newline:\n'],
  },
  {
    name: 'indented heredoc with CRLF',
    src: '<<-EOT\r\n  a\r\n  EOT\r\n',
    want: ['OHeredoc:<<-EOT\r\n', 'StringLit:  a\r\n', 'CHeredoc:  EOT', 'Newline:\r\n'],
  },
  {
    name: 'marker after an interpolation on the same line does not close a heredoc',
    src: '<<EOT\n${a}EOT\nEOT\n',
    want: ['OHeredoc:<<EOT\n', 'TemplateInterp:${', 'Ident:a', 'TemplateSeqEnd:}', 'StringLit:EOT\n', 'CHeredoc:EOT', 'Newline:\n'],
  },
  { name: 'no heredoc without a newline', src: '<<EOT', want: ['LessThan:<', 'LessThan:<', 'Ident:EOT'] },
  { name: 'invalid characters', src: "'a' ; ` @", want: ['Quote:\'', 'Ident:a', 'Quote:\'', 'Semicolon:;', 'Backtick:`', 'Invalid:@'] },
  { name: 'bitwise operators', src: '& | ^ ~', want: ['BitwiseAnd:&', 'BitwiseOr:|', 'BitwiseXor:^', 'BitwiseNot:~'] },
];

for (const c of cases) {
  test(`lex: ${c.name}`, () => {
    assert.deepEqual(view(c.src), c.want);
  });
}

test('lex: token bytes concatenate to the source', () => {
  const sources = [
    ...readdirSync('examples').filter((f) => f.endsWith('.hcl')).map((f) => readFileSync(join('examples', f), 'utf8')),
    '\uFEFFa = "x ${b} %{if c}d%{endif}" /* c */ # e\r\n  f = <<-EOT\n  g\n  EOT\n',
    '"unterminated ${ x',
    "a = '\t\u00e9\u{1F600}'",
  ];
  for (const src of sources) {
    const { tokens } = lex(src, 't.hcl');
    assert.equal(tokens.map((t) => t.bytes).join(''), src);
    assert.equal(tokens[tokens.length - 1].type, 'EOF');
  }
});

test('lex: ranges count lines and code points', () => {
  const { tokens } = lex('a = "\u{1F600}"\r\n  b', 't.hcl');
  const b = tokens.find((t) => t.bytes === 'b');
  assert.deepEqual(b?.range, { filename: 't.hcl', start: { line: 2, column: 3, byte: 12 }, end: { line: 2, column: 4, byte: 13 } });
  const close = tokens.find((t) => t.type === 'CQuote');
  assert.deepEqual(close?.range.start, { line: 1, column: 7, byte: 7 });
});

test('lex: the start option shifts positions', () => {
  const { tokens } = lex('x', 'f', { start: { line: 3, column: 5, byte: 20 } });
  assert.deepEqual(tokens[0].range.start, { line: 3, column: 5, byte: 20 });
  assert.deepEqual(tokens[0].range.end, { line: 3, column: 6, byte: 21 });
});

test('lex: template mode scans literal text and sequences', () => {
  const { tokens } = lex('a\n"b" ${c} $${d}', 'f', { mode: 'template' });
  assert.deepEqual(
    tokens.map((t) => `${t.type}:${t.bytes}`),
    ['StringLit:a\n', 'StringLit:"b" ', 'TemplateInterp:${', 'Ident:c', 'TemplateSeqEnd:}', 'StringLit: $${d}', 'EOF:'],
  );
});

test('lex: diagnostics explain invalid characters', () => {
  const { diagnostics } = lex("a = 'x' & y\nb = \"c\nd\"\n@", 't.hcl');
  assert.deepEqual(
    diagnostics.map((d) => `${d.summary} | ${d.detail} | ${d.subject?.start.line}:${d.subject?.start.column}`),
    [
      'Invalid character | Single quotes are not valid. Use double quotes (") to enclose strings. | 1:5',
      'Unsupported operator | Bitwise operators are not supported. Did you mean boolean AND ("&&")? | 1:9',
      'Invalid multi-line string | Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the "heredoc" multi-line template syntax. | 2:7',
      'Invalid character | This character is not used within the language. | 4:1',
    ],
  );
});

test('lex: an unterminated block comment is reported', () => {
  const { tokens, diagnostics } = lex('a = 1 /* no end', 't.hcl');
  assert.equal(tokens[tokens.length - 2].type, 'Comment');
  assert.deepEqual(diagnostics.map((d) => d.summary), ['Unterminated comment']);
});

test('lex: a huge string and deep nesting are scanned', () => {
  const big = `a = "${'x'.repeat(5_000_000)}"`;
  const r = lex(big, 't.hcl');
  assert.equal(r.tokens.length, 8);
  const deep = '"${'.repeat(100_000) + '}"'.repeat(100_000);
  const d = lex(deep, 't.hcl');
  assert.equal(d.tokens.map((t) => t.bytes).join(''), deep);
  assert.equal(d.tokens[d.tokens.length - 2].type, 'CQuote');
});
