/**
 * The `manifest` post-processor (Packer's post-processor/manifest): appends a record of the
 * artifact to a JSON file (`output`, default `packer-manifest.json`):
 *
 *   { "builds": [ { name, builder_type, build_time, files: [{name, size}] | null, artifact_id,
 *                   packer_run_uuid, custom_data } ], "last_run_uuid": … }
 *
 * Append rule: records are always appended, across builds and across runs; with `-force` a file
 * written by an earlier run (another `last_run_uuid`) is started afresh. `strip_path` records file
 * names without folders; `strip_time` leaves `build_time` out. While it reads and writes, it holds
 * `OUTPUT.lock` (created exclusively; three tries, 0/200/400 ms apart, as in Packer) — and, since
 * builds of one run share a process, an in-process lock per file as well. The input artifact is
 * passed on and always kept.
 */
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { PostProcessorDef } from '../sdk/component.js';
import { systemErrorDetail } from '../errors.js';
import { asBool, asString, asStringMap, ConfigReader } from '../sdk/config-reader.js';
import { goMarshalIndent, type GoJson } from '../values/go-json.js';

export interface ManifestConfig {
  output: string;
  stripPath: boolean;
  stripTime: boolean;
  customData?: Record<string, string>;
}

interface ManifestBuild {
  name: string;
  builder_type: string;
  build_time?: number;
  files: { name: string; size: number }[] | null;
  artifact_id: string;
  packer_run_uuid: string;
  custom_data: Record<string, string> | null;
}

const fileLocks = new Map<string, Promise<void>>();

/** Runs `fn` while holding the in-process lock for `path`. */
async function withProcessLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const prev = fileLocks.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  fileLocks.set(path, chained);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (fileLocks.get(path) === chained) fileLocks.delete(path);
  }
}

/** Re-reads a record as Go's json.Unmarshal into Packer's struct would: known fields only. */
function normaliseRecord(b: unknown): ManifestBuild {
  const o = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const files = Array.isArray(o.files)
    ? o.files.map((f: unknown) => {
        const fo = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
        return { name: str(fo.name), size: typeof fo.size === 'number' ? fo.size : 0 };
      })
    : null;
  const custom = typeof o.custom_data === 'object' && o.custom_data !== null ? (o.custom_data as Record<string, string>) : null;
  const rec: ManifestBuild = {
    name: str(o.name),
    builder_type: str(o.builder_type),
    files,
    artifact_id: str(o.artifact_id),
    packer_run_uuid: str(o.packer_run_uuid),
    custom_data: custom,
  };
  if (typeof o.build_time === 'number' && o.build_time !== 0) rec.build_time = o.build_time;
  return rec;
}

function recordJson(r: ManifestBuild): GoJson {
  const out: Record<string, GoJson> = { name: r.name, builder_type: r.builder_type };
  if (r.build_time) out.build_time = r.build_time;
  out.files = r.files;
  out.artifact_id = r.artifact_id;
  out.packer_run_uuid = r.packer_run_uuid;
  out.custom_data = r.custom_data === null ? null : Object.fromEntries(Object.keys(r.custom_data).sort().map((k) => [k, r.custom_data![k]!]));
  return out;
}

export const manifestPostProcessor = {
  type: 'manifest',
  configSpec: {
    attributes: {
      output: { type: 'string' },
      strip_path: { type: 'bool' },
      strip_time: { type: 'bool' },
      custom_data: { type: 'map(string)' },
    },
  },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config: ManifestConfig = {
      output: r.get('output', asString) || 'packer-manifest.json',
      stripPath: r.get('strip_path', asBool) ?? false,
      stripTime: r.get('strip_time', asBool) ?? false,
      customData: r.get('custom_data', asStringMap),
    };
    return { config: r.errors.length === 0 ? config : undefined, errors: r.errors, warnings: [] };
  },
  outputFiles(config) {
    return [config.output];
  },
  async run(config, input, ctx) {
    const files: ManifestBuild['files'] = [];
    for (const name of input.files) {
      const size = await stat(resolve(ctx.cwd, name)).then(
        (s) => s.size,
        () => 0,
      );
      files.push({ name: config.stripPath ? basename(name) : name, size });
    }
    const record: ManifestBuild = {
      name: ctx.env.PACKER_BUILD_NAME ?? '',
      builder_type: ctx.builderType,
      files: files.length > 0 ? files : null,
      artifact_id: input.id,
      packer_run_uuid: ctx.runUuid,
      custom_data: config.customData ?? null,
    };
    if (!config.stripTime) record.build_time = Math.floor(Date.now() / 1000);
    const path = resolve(ctx.cwd, config.output);
    await withProcessLock(path, async () => {
      const lock = `${path}.lock`;
      let locked = false;
      for (let i = 0; i < 3 && !locked; i++) {
        if (i > 0) await delay(i * 200); // (a zero timeout would still cost a turn of the event loop, ~1 ms)
        locked = await open(lock, 'wx', 0o600).then(
          async (fh) => {
            await fh.close();
            return true;
          },
          () => false,
        );
      }
      try {
        let text = '';
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw new Error(`Unable to open ${config.output} for reading: ${systemErrorDetail(err)}`);
          }
        }
        let builds: ManifestBuild[] = [];
        let lastRun = '';
        if (text.length > 0) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            throw new Error(`Unable to parse content from ${config.output}: ${(err as Error).message}`);
          }
          const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
          builds = Array.isArray(p.builds) ? p.builds.map(normaliseRecord) : [];
          lastRun = typeof p.last_run_uuid === 'string' ? p.last_run_uuid : '';
        }
        if (ctx.force && lastRun !== ctx.runUuid) builds = [];
        builds.push(record);
        const doc: GoJson = { builds: builds.map(recordJson), last_run_uuid: ctx.runUuid };
        try {
          await writeFile(path, goMarshalIndent(doc), { mode: 0o664 });
        } catch (err) {
          throw new Error(`Unable to write ${config.output}: ${systemErrorDetail(err)}`);
        }
      } finally {
        if (locked) await rm(lock, { force: true });
      }
    });
    return { artifact: input, keep: true, forceOverride: true };
  },
} satisfies PostProcessorDef<ManifestConfig>;
