/**
 * Loads a template the way Packer's hcl2template parser does, in phases:
 *
 * 1. find and parse the files (a file, or a folder's `*.pkr.hcl` and `*.pkr.json`); stop on
 *    syntax errors;
 * 2. `packer` blocks: check `required_version` (stop when unmet, reporting only that: later
 *    errors, such as blocks a newer Packer knows, would only confuse);
 * 3. declare variables (`variable`, `variables`) and locals (`locals`, `local`);
 * 4. give variables their values (default < PKR_VAR_ < *.auto.pkrvars.* < -var/-var-file in
 *    command-line order), report unset ones, run validation rules;
 * 5. evaluate locals and `data` blocks together in dependency order (prereqs.ts), executing data
 *    sources (`loadTemplate` with `dataSources.execute`) or giving them unknown values of their
 *    output types (`validate`; `loadHclTemplate`, which is synchronous and executes nothing);
 * 6. decode `source` and `build` blocks (sources of all files first, so a build may use a source
 *    declared in a later file).
 *
 * A legacy JSON template (src/template/legacy/detect.ts) is loaded by src/template/legacy/load.ts
 * into the same model instead (imported only then). `loadTemplate` is async for that and for data
 * sources; `loadHclTemplate` is the synchronous HCL2 loader (data sources not executed).
 *
 * All problems are returned as diagnostics, never thrown. A template is returned whenever the
 * files parsed, even when later phases found errors (so `inspect` can show what it could).
 * `parseDiagnostics` is the part Packer's parser reports (phases 1–4 without unset variables
 * and validation rules): Packer's `inspect` stops on those only and prints the template whatever
 * the later phases found (unset values as `<unknown>`, unknown source references as written).
 */
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { errorDiag, hasErrors, warningDiag, type Diagnostic, type SourceLookup } from '../diagnostics.js';
import type { Block, File } from '../hcl/ast.js';
import { bodyContent, type BodySchema } from '../hcl/body.js';
import { decodeBuildBlock } from './build.js';
import { defaultsContext, localObject, localsContext, varObject, type ContextBase } from './context.js';
import { dataSources as nativeDataSources } from '../datasources/registry.js';
import type { DataSourceDef } from '../sdk/component.js';
import type { Registry } from '../sdk/registry.js';
import { decodeDataBlock, type DataEvaluation } from './data.js';
import { findTemplateFiles, parseTemplateFile } from './files.js';
import { legacyTemplateFile } from './legacy/detect.js';
import { decodeLocalBlock, decodeLocalsBlock, type DeclaredLocal } from './locals.js';
import { emptyTemplate, type Template } from './model.js';
import { evaluatePrereqs, evaluatePrereqsSync, type PrereqInputs } from './prereqs.js';
import { decodePackerBlock } from './packer-block.js';
import { decodeSourceBlock } from './source.js';
import { collectVariableValues, decodeVariableBlock, decodeVariablesBlock, variableDefs, type DeclaredVariable, type ValueSource } from './variables.js';

/** A `-var name=value` or `-var-file=path` flag, in command-line order. */
export type VariableInput = { kind: 'var'; name: string; value: string } | { kind: 'file'; path: string };

export interface LoadOptions {
  /** -var and -var-file flags in the order given (later wins). */
  inputs?: readonly VariableInput[];
  /** The environment (PKR_VAR_* values; `env()` in variable defaults). */
  env: NodeJS.ProcessEnv;
  /** The working directory: relative paths resolve against it; `path.cwd`. */
  cwd: string;
  /** Parse the files and check the top-level structure only (`validate -syntax-only`). */
  syntaxOnly?: boolean;
  /** What a var-file value for an undeclared variable is: a warning (the default, as Packer),
   * an error, or nothing (`validate -no-warn-undeclared-var`). */
  undeclaredVarFile?: 'warning' | 'error' | 'ignore';
  /** How `data` blocks are evaluated (default: not executed, native data sources only). */
  dataSources?: DataSourceLoadOptions;
}

/** The data sources one load uses, and what stops their plugin processes. */
export interface LoadDataSources {
  registry: Registry<DataSourceDef<unknown>>;
  diagnostics: Diagnostic[];
  close(): Promise<void>;
}

export interface DataSourceLoadOptions {
  /** Execute the data sources (build, plan, console, inspect, validate -evaluate-datasources);
   * otherwise their values are unknown values of their output types. `loadTemplate` only. */
  execute: boolean;
  /** The data sources for a template's `data` block `types` (plugins started as needed), closed
   * once the template is loaded. Default: the native ones. `loadTemplate` only. */
  resolve?(template: Template, types: readonly string[]): Promise<LoadDataSources>;
  /** Stops a running data source (SIGINT). */
  signal?: AbortSignal;
  /** `-use-sequential-evaluation`: every data block before the locals, so a data block may not
   * refer to a local (src/template/prereqs.ts). */
  sequential?: boolean;
}

export interface LoadResult {
  template?: Template;
  diagnostics: Diagnostic[];
  /** The diagnostics of the parsing phases (see above): a subset of `diagnostics`. */
  parseDiagnostics: Diagnostic[];
  /** The text of every file read, for printing diagnostics with their source lines. */
  sources: SourceLookup;
}

const topSchema: BodySchema = {
  attributes: [],
  blocks: [
    { type: 'packer', labelNames: [] },
    { type: 'variable', labelNames: ['name'] },
    { type: 'variables', labelNames: [] },
    { type: 'locals', labelNames: [] },
    { type: 'local', labelNames: ['name'] },
    { type: 'source', labelNames: ['type', 'name'] },
    { type: 'build', labelNames: [] },
    { type: 'data', labelNames: ['type', 'name'] },
    // Packer 1.6.6 accepts top-level `communicator "TYPE" "NAME" { … }` blocks and ignores them.
    { type: 'communicator', labelNames: ['type', 'name'] },
  ],
};

/** The name diagnostics show for a file: relative to cwd when inside it, else absolute. */
function displayName(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Loads a template: HCL2 (`loadHclTemplate`) or a legacy JSON template, whose loader is imported
 * only then, so HCL2 runs never load the legacy engine. */
export async function loadTemplate(path: string, options: LoadOptions): Promise<LoadResult> {
  const legacy = legacyTemplateFile(path, options.cwd);
  if (!legacy) return loadHclTemplateAsync(path, options);
  const { loadLegacyTemplate } = await import('./legacy/load.js');
  return loadLegacyTemplate(path, legacy, displayName(legacy, options.cwd), options);
}

/** A load stopped before locals and data blocks are evaluated (phases 1–4 done). */
interface Loading {
  template: Template;
  diags: Diagnostic[];
  parseDiagnostics: Diagnostic[];
  sources: SourceLookup;
  blocks: Block[];
  base: ContextBase;
  declaredLocals: Map<string, DeclaredLocal>;
}

/** Loads an HCL2 template (a `.pkr.hcl` / `.pkr.json` file or a folder of them); data blocks get
 * unknown values of their output types (nothing is executed). */
export function loadHclTemplate(path: string, options: LoadOptions): LoadResult {
  const l = loadUntilPrereqs(path, options);
  if (!('declaredLocals' in l)) return l;
  const how: DataEvaluation = { registry: nativeDataSources, execute: false, context: dataContext(options) };
  l.diags.push(...evaluatePrereqsSync(prereqInputs(l, how, options.dataSources?.sequential === true)));
  return finishLoad(l);
}

/** As `loadHclTemplate`, executing data sources when `options.dataSources.execute` asks. */
async function loadHclTemplateAsync(path: string, options: LoadOptions): Promise<LoadResult> {
  const l = loadUntilPrereqs(path, options);
  if (!('declaredLocals' in l)) return l;
  const types = [...new Set(l.template.dataSources.map((d) => d.type))];
  const resolved: LoadDataSources = options.dataSources?.resolve && types.length > 0
    ? await options.dataSources.resolve(l.template, types)
    : { registry: nativeDataSources, diagnostics: [], close: async () => undefined };
  try {
    l.diags.push(...resolved.diagnostics);
    // With errors already found (an unset variable…), nothing is executed on wrong values.
    const execute = options.dataSources?.execute === true && !hasErrors(l.diags);
    const how: DataEvaluation = { registry: resolved.registry, execute, context: dataContext(options) };
    l.diags.push(...await evaluatePrereqs(prereqInputs(l, how, options.dataSources?.sequential === true)));
  } finally {
    await resolved.close();
  }
  return finishLoad(l);
}

function dataContext(options: LoadOptions): DataEvaluation['context'] {
  return { signal: options.dataSources?.signal ?? new AbortController().signal, cwd: options.cwd, env: options.env };
}

function prereqInputs(l: Loading, data: DataEvaluation, sequential: boolean): PrereqInputs {
  // Variables are final from here on: `var` is made once.
  const vars = varObject(l.template);
  return {
    template: l.template,
    declaredLocals: l.declaredLocals,
    contextFor: (refs, dataValue) => localsContext(l.template, l.base, vars, refs ? localObject(l.template, refs) : undefined, dataValue),
    data,
    sequential,
  };
}

/** Phase 6: sources and builds. */
function finishLoad(l: Loading): LoadResult {
  const { template, diags, base } = l;
  const ofType = (t: string): Block[] => l.blocks.filter((b) => b.type === t);
  for (const b of ofType('communicator')) diags.push(ignoredCommunicator(b));
  for (const b of ofType('source')) diags.push(...decodeSourceBlock(b, template.sources));
  const buildCtx = localsContext(template, base, varObject(template));
  for (const b of ofType('build')) {
    const r = decodeBuildBlock(b, buildCtx, template.sources);
    diags.push(...r.diagnostics);
    if (r.build) template.builds.push(r.build);
  }
  return { template, diagnostics: diags, parseDiagnostics: l.parseDiagnostics, sources: l.sources };
}

/** Phases 1–4, and the declaration of data blocks; a finished result when it stops early. */
function loadUntilPrereqs(path: string, options: LoadOptions): LoadResult | Loading {
  const cwd = options.cwd;
  const texts = new Map<string, string>();
  const sources: SourceLookup = (filename) => texts.get(filename) ?? readSafe(resolve(cwd, filename));
  const diags: Diagnostic[] = [];
  const found = findTemplateFiles(path, cwd);
  diags.push(...found.diagnostics);
  if (hasErrors(diags)) return { diagnostics: diags, parseDiagnostics: diags, sources };

  const parse = (file: string): File | undefined => {
    const r = parseTemplateFile(file, displayName(file, cwd));
    diags.push(...r.diagnostics);
    if (r.file) texts.set(r.file.filename, r.file.source);
    return r.file;
  };
  const files = found.configFiles.map(parse).filter((f): f is File => f !== undefined);
  if (hasErrors(diags)) return { diagnostics: diags, parseDiagnostics: diags, sources };

  // Top-level blocks of every file, grouped by type in file order. Their structural problems are
  // reported after the version check: a template for a newer Packer gets the version error only.
  const blocks: Block[] = [];
  const structureDiags: Diagnostic[] = [];
  for (const f of files) {
    const { content, diagnostics } = bodyContent(f.body, topSchema);
    structureDiags.push(...diagnostics);
    blocks.push(...content.blocks);
  }
  const ofType = (t: string): Block[] => blocks.filter((b) => b.type === t);

  const base: ContextBase = { root: found.root, cwd, env: options.env };
  const template: Template = emptyTemplate(path, found.root, cwd, files);
  if (options.syntaxOnly) {
    const all = [...diags, ...structureDiags];
    return { template, diagnostics: all, parseDiagnostics: all, sources };
  }

  const defaults = defaultsContext(base);
  const versionDiags: Diagnostic[] = [];
  for (const b of ofType('packer')) versionDiags.push(...decodePackerBlock(b, defaults, template.packer));
  diags.push(...versionDiags);
  if (hasErrors(versionDiags)) return { template, diagnostics: diags, parseDiagnostics: diags, sources };
  diags.push(...structureDiags);

  // Variables and locals are declared first, whatever file or order they are in.
  const declared = new Map<string, DeclaredVariable>();
  for (const b of blocks) {
    if (b.type === 'variable') diags.push(...decodeVariableBlock(b, defaults, declared));
    else if (b.type === 'variables') diags.push(...decodeVariablesBlock(b, defaults, declared));
  }
  template.variables = variableDefs(declared);
  const declaredLocals = new Map<string, DeclaredLocal>();
  for (const b of blocks) {
    if (b.type === 'locals') diags.push(...decodeLocalsBlock(b, declaredLocals));
    else if (b.type === 'local') diags.push(...decodeLocalBlock(b, declaredLocals, localsContext(template, base)));
  }

  // Values: auto var files (lexical order), then -var / -var-file in command-line order.
  const valueSources: ValueSource[] = [];
  const addVarFile = (file: string): void => {
    const ext = extname(file);
    if (ext !== '.hcl' && ext !== '.json') {
      diags.push(errorDiag(`Could not guess format of ${file}`, 'A var file must be suffixed with `.hcl` or `.json`.'));
      return;
    }
    const f = parse(resolve(cwd, file));
    if (f) valueSources.push({ kind: 'file', file: f, path: file });
  };
  for (const f of found.autoVarFiles) addVarFile(f);
  for (const input of options.inputs ?? []) {
    if (input.kind === 'var') valueSources.push(input);
    else addVarFile(input.path);
  }
  const values = collectVariableValues(declared, options.env, valueSources, options.undeclaredVarFile ?? 'warning', () => localsContext(template, base), texts);
  diags.push(...values.assignment);
  const parseDiagnostics = [...diags];
  diags.push(...values.evaluation);

  for (const b of ofType('data')) diags.push(...decodeDataBlock(b, template.dataSources));
  return { template, diags, parseDiagnostics, sources, blocks, base, declaredLocals };
}

/** Packer 1.6.6 reads top-level communicator blocks and does nothing with them (their bodies are
 * not even evaluated); builder accepts them too, and says that they have no effect. */
function ignoredCommunicator(b: Block): Diagnostic {
  return warningDiag(
    'Communicator block ignored',
    `A top-level communicator block has no effect (Packer 1.6.6 ignores it too). Set the communicator and its settings in the source block instead, e.g. communicator = "${b.labels[0] ?? 'ssh'}".`,
    { ...b.typeRange, end: (b.labelRanges.at(-1) ?? b.typeRange).end },
  );
}

function readSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
