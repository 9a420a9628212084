/**
 * Loads a legacy JSON template into the same `Template` model HCL2 templates load into, so that
 * build, validate, plans, state and resume work on it unchanged. The translation:
 *
 * - each builder becomes a `source "<type>" "<name>"` (its name, or its type when unnamed) and its
 *   own build (one `BuildDef` per builder, holding that one source), named as Packer 1.6.6 names a
 *   legacy build: the builder's name (`BuildSourceRef.legacyName`). Builds are in Packer's order
 *   (sorted by name).
 * - every string is rendered with the legacy engine for that build (`build_name`, `build_type`,
 *   `user`, `timestamp`, …; see functions.ts and render.ts); so each build holds its own rendered
 *   copies of the provisioners and post-processors;
 * - a provisioner's or post-processor's `only`/`except` (builder names) are applied here, and a
 *   provisioner's `override` for the builder replaces its fields here; `pause_before`,
 *   `max_retries`, `timeout` and `keep_input_artifact` become the model's step meta-arguments;
 * - variables become string variables with their final values (sensitive ones from
 *   `sensitive-variables`), so output masking and the state's handling of secrets apply;
 * - `min_packer_version` is checked against the Packer version builder speaks.
 */
import { dirname } from 'node:path';
import semverCompare from 'semver/functions/compare.js';
import { errorDiag, hasErrors, type Diagnostic, type SourceLookup } from '../../diagnostics.js';
import { parseDuration } from '../../cli/flags.js';
import { T, Value } from '../../values/value.js';
import { PACKER_LANGUAGE_VERSION } from '../../version.js';
import type { LoadOptions, LoadResult } from '../loader.js';
import { emptyTemplate, type BuildDef, type PostProcessorDef, type ProvisionerDef, type StepMeta, type Template, type VariableDef } from '../model.js';
import { legacyFunctions } from './functions.js';
import { readLegacyTemplateFile, type JsonObject, type LegacyBuilder, type LegacyProvisioner } from './parse.js';
import { jsonBody, renderJsonValue } from './render.js';
import { legacyVariableValues } from './variables.js';

/** The run's start time: one per process, as Packer's InitTime. */
const INIT_TIME = new Date();

/** `displayName` is the template's name in diagnostics (as the user wrote it). */
export function loadLegacyTemplate(path: string, fullPath: string, displayName: string, options: LoadOptions): LoadResult {
  const texts = new Map<string, string>();
  const sources: SourceLookup = (f) => texts.get(f);
  const parsed = readLegacyTemplateFile(fullPath, displayName, texts);
  if (!parsed.template) return { diagnostics: parsed.diagnostics, parseDiagnostics: parsed.diagnostics, sources };
  const lt = parsed.template;
  const diags: Diagnostic[] = [...parsed.diagnostics];
  const root = dirname(path);
  const template: Template = {
    ...emptyTemplate(path, root, options.cwd, [lt.file]),
    legacy: lt,
  };
  if (lt.minVersion) {
    template.packer.requiredVersion = `>= ${lt.minVersion}`;
    let older = false;
    try {
      older = semverCompare(PACKER_LANGUAGE_VERSION, lt.minVersion.replace(/^v/, ''), true) < 0;
    } catch {
      diags.push(errorDiag('Failed to parse template', `min_packer_version: Malformed version: ${lt.minVersion}`));
    }
    if (older) {
      diags.push(errorDiag('Failed to initialize build', `This template requires Packer version ${lt.minVersion} or higher; using ${PACKER_LANGUAGE_VERSION}`));
    }
  }
  if (options.syntaxOnly || hasErrors(diags)) return { template, diagnostics: diags, parseDiagnostics: diags, sources };

  const base = { env: options.env, templatePath: path, cwd: options.cwd, initTime: INIT_TIME, version: PACKER_LANGUAGE_VERSION };
  const vals = legacyVariableValues(lt, options.inputs ?? [], base);
  for (const [k, v] of vals.texts) texts.set(k, v);
  diags.push(...vals.diagnostics);
  const sensitive = new Set(lt.sensitiveVariables);
  for (const v of lt.variables) {
    const value = vals.values.get(v.name);
    const def: VariableDef = {
      name: v.name,
      type: T.string,
      default: v.default === undefined ? undefined : Value.string(v.default),
      sensitive: sensitive.has(v.name),
      value: value === undefined ? undefined : Value.string(value),
      source: vals.sources.get(v.name),
      range: v.range,
    };
    template.variables.set(v.name, def);
  }
  if (hasErrors(diags)) return { template, diagnostics: diags, parseDiagnostics: diags, sources };

  const builders = [...lt.builders].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const b of builders) {
    const fns = legacyFunctions({ ...base, user: vals.values, enableEnv: false, buildName: b.name, buildType: b.type });
    const render = (o: JsonObject): JsonObject => renderJsonValue(o, fns, b.name, '', diags) as JsonObject;
    template.sources.set(`${b.type}.${b.name}`, { type: b.type, name: b.name, body: jsonBody(render(b.config)), range: b.range });
    const build: BuildDef = {
      name: '',
      description: lt.description,
      sources: [{ type: b.type, sourceName: b.name, localName: b.name, legacyName: b.name, range: b.range }],
      provisioners: lt.provisioners.filter((p) => applies(p, b)).map((p) => provisionerDef(p, b, render, diags)),
      errorCleanupProvisioner: lt.errorCleanupProvisioner ? provisionerDef(lt.errorCleanupProvisioner, b, render, diags) : undefined,
      postProcessors: lt.postProcessors
        .map((chain) =>
          chain
            .filter((p) => applies(p, b))
            .map((p): PostProcessorDef => {
              const meta: StepMeta = { name: p.name, only: [], except: [] };
              if (p.keepInputArtifact !== undefined) meta.keepInputArtifact = p.keepInputArtifact;
              return { ...meta, type: p.type, body: jsonBody(render(p.config)), range: p.range };
            }),
        )
        .filter((chain) => chain.length > 0),
      range: b.range,
    };
    template.builds.push(build);
  }
  return { template, diagnostics: diags, parseDiagnostics: diags, sources };
}

/** Packer's legacy OnlyExcept.Skip, on builder names. */
function applies(step: { only: string[]; except: string[] }, b: LegacyBuilder): boolean {
  if (step.only.length > 0) return step.only.includes(b.name);
  return !step.except.includes(b.name);
}

function provisionerDef(p: LegacyProvisioner, b: LegacyBuilder, render: (o: JsonObject) => JsonObject, diags: Diagnostic[]): ProvisionerDef {
  const override = p.override.get(b.name);
  let config = p.config;
  if (override) {
    const replaced = new Set(override.props.map((x) => x.name));
    config = { ...config, props: [...config.props.filter((x) => !replaced.has(x.name)), ...override.props] };
  }
  const meta: StepMeta = { only: [], except: [] };
  const duration = (text: string | undefined, key: string): number | undefined => {
    if (text === undefined || text === '') return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) diags.push(errorDiag('Failed to parse template', `${key}: time: invalid duration "${text}"`, p.range));
    return ms;
  };
  meta.pauseBefore = duration(p.pauseBefore, 'pause_before');
  meta.timeout = duration(p.timeout, 'timeout');
  if (p.maxRetries !== undefined && p.maxRetries !== '') {
    const n = Number(p.maxRetries);
    if (!Number.isInteger(n) || n < 0) diags.push(errorDiag('Failed to prepare build', `max_retries: strconv.Atoi: parsing "${p.maxRetries}": invalid syntax`, p.range));
    else meta.maxRetries = n;
  }
  return { ...meta, type: p.type, body: jsonBody(render(config)), range: p.range };
}
