/**
 * The decoded template: what the template layer (src/template) hands to commands and to the
 * build engine. Owned by the template layer; the build engine reads it.
 *
 * Contracts:
 * - Loading a template (`loadTemplate` in src/template/loader.ts) parses every file, decodes every
 *   block, evaluates variables (Packer's precedence) and locals (in dependency order), and returns
 *   `{ template, diagnostics }`; it never throws for user errors.
 * - Component configuration (source, provisioner, post-processor bodies) is kept as HCL bodies and
 *   evaluated later with `evaluateConfig`, because it may refer to values only the running build
 *   knows (`build.Host`, `build.ID`, …). During `validate` those values are unknown.
 */
import type { Diagnostic, Range } from '../diagnostics.js';
import type { Body, File } from '../hcl/ast.js';
import type { Type, Value } from '../values/value.js';
import type { LegacyTemplate } from './legacy/parse.js';

export interface VariableDef {
  name: string;
  type: Type;
  /** Undefined when no default was declared. */
  default?: Value;
  description?: string;
  sensitive: boolean;
  /** The final value after precedence was applied (undefined if none: an error). */
  value?: Value;
  /** Where the final value came from: 'default' | 'env' | a var-file path | 'cli'. */
  source?: string;
  /** Number of `validation` blocks (they run while loading; failures are diagnostics). */
  validationCount?: number;
  range: Range;
}

export interface LocalDef {
  name: string;
  sensitive: boolean;
  value?: Value;
  range: Range;
}

export interface SourceDef {
  /** e.g. "null" */
  type: string;
  /** e.g. "basic" */
  name: string;
  body: Body;
  range: Range;
}

/** A source as used by a build: `source.null.basic`, possibly renamed or extended in the build.
 * It may name an undeclared source when loading reported that as an error (for `inspect`). */
export interface BuildSourceRef {
  type: string;
  /** The name of the `source` block referred to. */
  sourceName: string;
  /** The name the build uses for it (a `name = …` inside an inner `source` block), else sourceName. */
  localName: string;
  /** Extra fields given in an inner `source` block of the build, merged over the source's body. */
  extraBody?: Body;
  /** Set for a legacy JSON template's builder: the build's whole name (Packer 1.6.6 names a legacy
   * build by its builder's `name`, or type). */
  legacyName?: string;
  range: Range;
}

/** Meta-arguments shared by provisioners and post-processors. */
export interface StepMeta {
  /** The block's `name` meta-argument (for -except and output), if any. */
  name?: string;
  only: string[];
  except: string[];
  /** Milliseconds. */
  pauseBefore?: number;
  maxRetries?: number;
  /** Milliseconds. */
  timeout?: number;
  /** Per-source overrides: source name → fields. Values are evaluated (object values). */
  override?: Map<string, Value>;
  keepInputArtifact?: boolean;
}

export interface ProvisionerDef extends StepMeta {
  type: string;
  /** The configuration body, without its meta-arguments. */
  body: Body;
  range: Range;
}

export interface PostProcessorDef extends StepMeta {
  type: string;
  body: Body;
  range: Range;
}

export interface BuildDef {
  /** The `name` attribute of the build block; may be empty. */
  name: string;
  description?: string;
  sources: BuildSourceRef[];
  provisioners: ProvisionerDef[];
  errorCleanupProvisioner?: ProvisionerDef;
  /** Each inner array is one chain: a lone `post-processor` block is a chain of one;
   * a `post-processors { … }` block is a chain of several. */
  postProcessors: PostProcessorDef[][];
  range: Range;
}

/** A `data "TYPE" "NAME"` block. `value` is set once the block is evaluated (src/template/
 * prereqs.ts): the data source's result, or an unknown value of its output type when data sources
 * are not executed (`validate`); absent when it could not be evaluated (a diagnostic says why). */
export interface DataBlockDef {
  type: string;
  name: string;
  body: Body;
  range: Range;
  /** The block's type label, for "unknown data source type" diagnostics. */
  typeRange: Range;
  value?: Value;
}

export interface PackerBlock {
  requiredVersion?: string;
  /** `required_plugins` entries: the local name (prefix of the plugin's component types), the
   * source address (`github.com/ORG/NAME`), the version constraint, and where the entry is. */
  requiredPlugins: { name: string; source?: string; version?: string; range?: Range }[];
}

/** One build that a template would run: a build block applied to one of its sources, with the
 * provisioners and post-processors that apply to that source (their only/except filtered). */
export interface PlannedBuild {
  /** Packer's full build name: "<build name>.<type>.<source local name>", or "<type>.<source
   * local name>" when the build block has no name. `-only`/`-except` globs match this name. */
  name: string;
  build: BuildDef;
  source: BuildSourceRef;
  /** The `source` block the ref points at. */
  sourceDef: SourceDef;
  provisioners: ProvisionerDef[];
  errorCleanupProvisioner?: ProvisionerDef;
  /** Chains; post-processors excluded by `-except` or their own only/except are left out, and
   * chains left empty are dropped. */
  postProcessors: PostProcessorDef[][];
}

export interface Template {
  /** The path given by the user (file or directory). */
  path: string;
  /** The folder of the template (`path.root`). */
  root: string;
  /** The working directory the template was loaded from (`path.cwd`). */
  cwd: string;
  files: File[];
  packer: PackerBlock;
  variables: Map<string, VariableDef>;
  locals: Map<string, LocalDef>;
  sources: Map<string, SourceDef>;
  builds: BuildDef[];
  dataSources: DataBlockDef[];
  /** Set when the template is a legacy JSON template: what it was loaded from (src/template/legacy/). */
  legacy?: LegacyTemplate;
}

/** Values known only while a build runs; absent ones evaluate as unknown. */
export interface BuildContextValues {
  /** `build.name` */
  buildName?: string;
  /** `source.name` / `source.type` */
  sourceName?: string;
  sourceType?: string;
  /** `build.ID`, `build.Host`, `build.Port`, `build.User`, `build.Password`, `build.SSHPrivateKey`,
   * `build.PackerRunUUID`, `build.ConnType`, … (see `BUILD_CONTEXT_KEYS`) */
  build?: Record<string, string>;
}

/** The communicator-time keys of the `build` object. Any of them not given in
 * `BuildContextValues.build` evaluates as an unknown string (as during `validate`). */
export const BUILD_CONTEXT_KEYS: readonly string[] = [
  'ID',
  'Host',
  'Port',
  'User',
  'Password',
  'ConnType',
  'PackerRunUUID',
  'PackerHTTPAddr',
  'PackerHTTPIP',
  'PackerHTTPPort',
  'SSHPublicKey',
  'SSHPrivateKey',
  'WinRMPassword',
];

export interface EvaluatedConfig {
  /** The body's attributes, and nested blocks as lists of objects, as plain JS data. An unknown
   * string (a value known only while building, absent from BuildContextValues) is the text
   * "<unknown>" (`UNKNOWN_STRING`); an unknown value of another type is `undefined`. */
  config: Record<string, unknown>;
  /** Every value in `config` that came from a sensitive value, to mask in output. */
  sensitiveValues: string[];
  diagnostics: Diagnostic[];
}

/** A template with its place and files and nothing declared yet: what a loader fills in. */
export function emptyTemplate(path: string, root: string, cwd: string, files: File[]): Template {
  return { path, root, cwd, files, packer: { requiredPlugins: [] }, variables: new Map(), locals: new Map(), sources: new Map(), builds: [], dataSources: [] };
}
