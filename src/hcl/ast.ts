/**
 * The syntax tree of HCL: native syntax (`.pkr.hcl`) and JSON syntax (`.pkr.json`).
 *
 * Contracts:
 * - Every node carries its source `range`.
 * - A file parses to a `File` whose `body` is either a native body (attributes and blocks known
 *   from syntax) or a JSON body (whose attributes and blocks are known only once a schema says
 *   which names are blocks: see `src/hcl/body.ts`). Decoders never look inside a body directly;
 *   they call `bodyContent` / `bodyPartialContent` / `bodyJustAttributes` from `body.ts`.
 * - Expressions of both syntaxes are `Expression` nodes evaluated by `src/hcl/eval.ts`. A JSON
 *   value in expression position is a `JsonExpression`, evaluated the way HCL's JSON spec says
 *   (strings are templates, objects are objects whose keys are templates, …).
 */
import type { Range } from '../diagnostics.js';
import type { Value } from '../values/value.js';

export interface File {
  filename: string;
  /** The source text, kept for diagnostics and `fmt`. */
  source: string;
  body: Body;
}

export type Body = NativeBody | JsonBody;

export interface NativeBody {
  kind: 'native';
  attributes: Attribute[];
  blocks: Block[];
  range: Range;
  /** Range of the closing brace (or end of file), for "missing attribute" diagnostics. */
  endRange: Range;
}

export interface JsonBody {
  kind: 'json';
  /** The JSON object (or, for repeated blocks, array of objects) that holds this body. */
  value: JsonValue;
  range: Range;
}

export interface Attribute {
  name: string;
  expr: Expression;
  range: Range;
  nameRange: Range;
}

export interface Block {
  type: string;
  labels: string[];
  body: Body;
  range: Range;
  typeRange: Range;
  labelRanges: Range[];
}

// ---- expressions --------------------------------------------------------------------------------

export type Expression =
  | LiteralExpr
  | TemplateExpr
  | TemplateWrapExpr
  | ScopeTraversalExpr
  | RelativeTraversalExpr
  | FunctionCallExpr
  | ConditionalExpr
  | BinaryOpExpr
  | UnaryOpExpr
  | TupleConsExpr
  | ObjectConsExpr
  | ObjectConsKeyExpr
  | ForExpr
  | IndexExpr
  | SplatExpr
  | AnonSymbolExpr
  | ParenthesesExpr
  | JsonExpression;

/** A number, bool or null literal (and the literal parts of templates). */
export interface LiteralExpr {
  kind: 'literal';
  /** 'number' literals keep their source text so they stay exact. */
  value: { type: 'number'; text: string } | { type: 'bool'; value: boolean } | { type: 'null' } | { type: 'string'; value: string };
  range: Range;
}

/** A quoted string or heredoc: literal parts, interpolations and directives. */
export interface TemplateExpr {
  kind: 'template';
  parts: TemplatePart[];
  range: Range;
}

export type TemplatePart =
  | { kind: 'literal'; value: string; range: Range }
  | { kind: 'interpolation'; expr: Expression; range: Range }
  | { kind: 'if'; cond: Expression; then: TemplatePart[]; else?: TemplatePart[]; range: Range }
  | { kind: 'for'; keyVar?: string; valueVar: string; coll: Expression; body: TemplatePart[]; range: Range };

/** A template that is exactly one interpolation (`"${x}"`): yields x's value unconverted. */
export interface TemplateWrapExpr {
  kind: 'templateWrap';
  wrapped: Expression;
  range: Range;
}

/** A step of a traversal: `.name`, `[key]` with a literal key, or a legacy `.0` index. */
export type Traverser =
  | { kind: 'attr'; name: string; range: Range }
  | { kind: 'index'; key: LiteralExpr; range: Range }
  | { kind: 'splat'; range: Range };

/** `var.foo.bar[0]`: a root name and literal steps. */
export interface ScopeTraversalExpr {
  kind: 'scopeTraversal';
  root: string;
  rootRange: Range;
  traversal: Traverser[];
  range: Range;
}

/** Literal steps applied to the result of another expression: `f(x).a[0]`. */
export interface RelativeTraversalExpr {
  kind: 'relativeTraversal';
  source: Expression;
  traversal: Traverser[];
  range: Range;
}

export interface FunctionCallExpr {
  kind: 'call';
  name: string;
  nameRange: Range;
  args: Expression[];
  /** True when the last argument is followed by `...` (expand a list/tuple into arguments). */
  expandFinal: boolean;
  range: Range;
  openParenRange: Range;
  closeParenRange: Range;
}

export interface ConditionalExpr {
  kind: 'conditional';
  cond: Expression;
  then: Expression;
  else: Expression;
  range: Range;
}

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '+' | '-' | '*' | '/' | '%';

export interface BinaryOpExpr {
  kind: 'binary';
  op: BinaryOperator;
  left: Expression;
  right: Expression;
  range: Range;
}

export interface UnaryOpExpr {
  kind: 'unary';
  op: '!' | '-';
  operand: Expression;
  range: Range;
}

export interface TupleConsExpr {
  kind: 'tuple';
  items: Expression[];
  range: Range;
}

export interface ObjectConsItem {
  key: Expression;
  value: Expression;
}

export interface ObjectConsExpr {
  kind: 'object';
  items: ObjectConsItem[];
  range: Range;
}

/** An object key, as in HCL: when `forceNonLiteral` is false and `wrapped` is a bare identifier
 * (a `scopeTraversal` with no steps), the key is that name as a string (`{ foo = 1 }` has key
 * "foo"); otherwise `wrapped` is evaluated as a normal expression. */
export interface ObjectConsKeyExpr {
  kind: 'objectKey';
  wrapped: Expression;
  /** True when the key was written in parentheses (`{ (foo) = 1 }`): evaluate `foo`, never take
   * the identifier literally. (Same meaning as HCL's `ForceNonLiteral`.) */
  forceNonLiteral: boolean;
  range: Range;
}

export interface ForExpr {
  kind: 'for';
  keyVar?: string;
  valueVar: string;
  coll: Expression;
  /** Present for the object form `{for k, v in x : keyExpr => valExpr}`. */
  keyExpr?: Expression;
  valExpr: Expression;
  condExpr?: Expression;
  /** `...` after the value in the object form: group values with the same key into tuples. */
  group: boolean;
  range: Range;
  openRange: Range;
  closeRange: Range;
}

/** `coll[key]` where key is any expression. */
export interface IndexExpr {
  kind: 'index';
  collection: Expression;
  key: Expression;
  range: Range;
  bracketRange: Range;
}

/** `src[*].each` or `src.*.each`: `each` is evaluated with `AnonSymbolExpr` bound to each element. */
export interface SplatExpr {
  kind: 'splat';
  source: Expression;
  each: Expression;
  item: AnonSymbolExpr;
  range: Range;
  markerRange: Range;
}

/** The placeholder an enclosing splat binds to the current element. */
export interface AnonSymbolExpr {
  kind: 'anonSymbol';
  range: Range;
}

export interface ParenthesesExpr {
  kind: 'parens';
  expr: Expression;
  range: Range;
}

export type JsonValue =
  | { kind: 'string'; value: string; range: Range }
  | { kind: 'number'; text: string; range: Range }
  | { kind: 'bool'; value: boolean; range: Range }
  | { kind: 'null'; range: Range }
  | { kind: 'array'; items: JsonValue[]; range: Range }
  | { kind: 'object'; props: { name: string; nameRange: Range; value: JsonValue }[]; range: Range; scope?: JsonScope };

/** Variables in scope for the expressions inside a JSON object: the iterator of the `dynamic`
 * block that generated it (HCL's dynblock iteration context). */
export type JsonScope = ReadonlyMap<string, Value>;

/** A JSON value in expression position (HCL JSON syntax). */
export interface JsonExpression {
  kind: 'json';
  value: JsonValue;
  range: Range;
  /** Extra variables for this expression (from a `dynamic` block's iterator). */
  scope?: JsonScope;
}

// ---- tokens (native syntax), shared by the parser and `fmt` -----------------------------------

/**
 * Token kinds of HCL's native-syntax scanner, plus `Spaces` (a run of spaces/tabs between tokens,
 * and a leading byte-order mark) so that the token stream covers the source exactly.
 *
 * - `OQuote`/`CQuote`: the `"` around a quoted template; `QuotedLit`: literal text inside it, raw
 *   (escapes such as `\n` and `$${` still in source form); `QuotedNewline`: a newline inside a
 *   quoted string (always an error).
 * - `OHeredoc`: `<<EOT` or `<<-EOT` *including* its newline; `StringLit`: raw heredoc (or bare
 *   template) text, a heredoc line including its newline; `CHeredoc`: the closing marker line
 *   with its leading whitespace but without its newline (which follows as a `Newline` token).
 * - `TemplateInterp` (`${` or `${~`), `TemplateControl` (`%{` or `%{~`), `TemplateSeqEnd`
 *   (`}` or `~}` closing either).
 * - `Comment`: `#…`/`//…` including the newline that ends it, or a whole `/* … *\/`.
 * - `Newline`: `\n` or `\r\n` outside templates.
 * - `Quote` is the apostrophe `'`; `Backtick`, `Semicolon`, `Bitwise*`, `DoubleColon` are
 *   recognised only to explain why they are invalid; `Invalid` is a run of characters the
 *   language does not use; `BadUTF8` a lone UTF-16 surrogate; `Tabs` is not produced (tabs are
 *   `Spaces`, as in HCL's scanner).
 */
export type TokenType =
  | 'OBrace' | 'CBrace' | 'OBrack' | 'CBrack' | 'OParen' | 'CParen'
  | 'OQuote' | 'CQuote' | 'OHeredoc' | 'CHeredoc'
  | 'Star' | 'Slash' | 'Plus' | 'Minus' | 'Percent'
  | 'Equal' | 'EqualOp' | 'NotEqual' | 'LessThan' | 'LessThanEq' | 'GreaterThan' | 'GreaterThanEq'
  | 'And' | 'Or' | 'Bang' | 'Dot' | 'Comma' | 'Ellipsis' | 'FatArrow' | 'Question' | 'Colon'
  | 'TemplateInterp' | 'TemplateControl' | 'TemplateSeqEnd'
  | 'QuotedLit' | 'StringLit' | 'NumberLit' | 'Ident' | 'Comment' | 'Newline' | 'EOF'
  | 'Invalid' | 'BadUTF8' | 'Quote' | 'Tabs'
  | 'Spaces' | 'QuotedNewline' | 'DoubleColon' | 'Backtick' | 'Semicolon'
  | 'BitwiseAnd' | 'BitwiseOr' | 'BitwiseNot' | 'BitwiseXor';

/** One lexical token; `bytes` is the exact source text of the token (comments include their
 * trailing newline when they are line comments, as in HCL's scanner). The concatenation of the
 * `bytes` of all tokens returned by `lex` is the source text exactly. */
export interface Token {
  type: TokenType;
  bytes: string;
  range: Range;
}
