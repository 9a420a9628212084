/**
 * The interfaces of build components: builders, communicators, provisioners, post-processors,
 * and of data sources. One component per file under src/builders, src/communicators,
 * src/provisioners, src/post-processors and src/datasources, each exporting an object that
 * `satisfies` its interface; one registry per kind maps the type name to it.
 *
 * Contracts:
 * - `prepare(config)` is pure: it validates and normalises the evaluated configuration (plain JS
 *   data from `evaluateConfig`) and returns errors and warnings; it has no side effects.
 * - `run` does the work. It honours `signal`: when aborted it stops promptly (killing any process
 *   tree it started) and rejects.
 * - Errors are thrown (Error or UserError), not stored.
 * - Everything a step prints goes through `ui`, which masks sensitive values.
 */
import type { Readable } from 'node:stream';
import type { Type, Value } from '../values/value.js';

/** Output of one build, prefixed with its name the way Packer prints it. */
export interface BuildUi {
  /** `==> NAME: message` */
  say(message: string): void;
  /** `    NAME: message` (step output, indented) */
  message(message: string): void;
  /** `==> NAME: message` in red on a terminal (errors) */
  error(message: string): void;
  /** Asks a question on the terminal; resolves to the answer, or undefined with no terminal. */
  ask?(question: string): Promise<string | undefined>;
  /** While the output is congested, a promise that resolves once it can take more (back-pressure). */
  whenWritable?(): Promise<void> | undefined;
  /** A progress bar for a transfer of `total` bytes (0: unknown), as Packer's TrackProgress; undefined
   * when the output is not a terminal (then nothing is drawn). The caller stops it. */
  trackProgress?(label: string, total: number): ProgressTracker | undefined;
}

/** Told how a transfer advances (src/ui/progress.ts draws it). */
export interface ProgressTracker {
  /** Bytes transferred so far. */
  update(bytes: number): void;
  stop(): void;
}

/** A configuration schema, so that `validate` refuses unknown arguments the way Packer does. */
export interface ConfigSpec {
  attributes: Record<string, { type: 'string' | 'number' | 'bool' | 'list(string)' | 'map(string)' | 'any'; required?: boolean }>;
  blocks?: Record<string, { nesting: 'single' | 'list'; spec: ConfigSpec }>;
}

export interface PrepareResult<C> {
  config?: C;
  errors: string[];
  warnings: string[];
}

// ---- communicators ------------------------------------------------------------------------------

export interface RemoteCommand {
  command: string;
  /** Streams for the command's input/output; output is also delivered line by line to callbacks:
   * each call is one line without its "\n" (a last unterminated line is delivered at the end). */
  stdin?: Readable;
  onStdout?(line: string): void;
  onStderr?(line: string): void;
  /** A remote file to remove, in the same call, when the command exits 0 (a script the caller
   * uploaded). Only communicators with `removesAfterSuccess` do; the others ignore it. */
  removeAfterSuccess?: string;
}

export interface RemoteCommandResult {
  /** Exit status; undefined when the connection dropped before the command finished. */
  exitStatus?: number;
  /** True when the connection was lost while the command ran. */
  disconnected: boolean;
}

/** Told, as a transfer moves, how many bytes have moved so far (a running total). A communicator
 * counts the files' contents; one that moves an archive (docker) counts the archive's bytes, which
 * run slightly ahead (headers) — the caller's bar clamps to its total. */
export type OnTransferProgress = (bytes: number) => void;

/** A connection to a machine being built. */
export interface Communicator {
  /** `upload` sets the given mode on the remote file (no separate chmod is needed). */
  readonly uploadSetsMode?: boolean;
  /** `start` honours RemoteCommand.removeAfterSuccess (no separate remove is needed after an exit 0). */
  readonly removesAfterSuccess?: boolean;
  start(cmd: RemoteCommand, signal: AbortSignal): Promise<RemoteCommandResult>;
  upload(remotePath: string, data: Readable | Buffer, mode: number | undefined, signal: AbortSignal): Promise<void>;
  uploadDir(remoteDir: string, localDir: string, exclude: readonly string[], signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void>;
  download(remotePath: string, localPath: string, signal: AbortSignal): Promise<void>;
  downloadDir(remoteDir: string, localDir: string, signal: AbortSignal, onProgress?: OnTransferProgress): Promise<void>;
  close(): Promise<void>;
}

/** Connection facts a communicator exposes to templates as `build.Host`, `build.Port`, … */
export interface ConnectionInfo {
  type: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  sshPrivateKey?: string;
  sshPublicKey?: string;
}

// ---- artifacts ----------------------------------------------------------------------------------

export interface Artifact {
  /** The unique ID of the builder (or post-processor) that made it, e.g. "packer.file". */
  builderId: string;
  /** Human-readable id; Packer's manifest "artifact_id". */
  id: string;
  files: string[];
  /** `String()` of the artifact as Packer prints it in the final list. */
  description: string;
  /** State data (`artifact.state`), e.g. generated data for the manifest. */
  state: Record<string, unknown>;
  /** Removes the artifact's files (used when an intermediate artifact is not kept). */
  destroy(): Promise<void>;
}

// ---- hooks into the run -------------------------------------------------------------------------

/** Runs the provisioners of a build on the instance a builder made (Packer's "hook"). */
export type ProvisionHook = (comm: Communicator | undefined, conn: ConnectionInfo | undefined, signal: AbortSignal) => Promise<void>;

/** The `build.*` values of a connected build (`ID`, `Host`, …), by key: what a step's
 * configuration may refer to once the build has connected. */
export type BuildValues = Record<string, string>;

// ---- component definitions ----------------------------------------------------------------------

/** What every step of a build may use. */
export interface StepContext {
  ui: BuildUi;
  signal: AbortSignal;
  /** The build's full name, "<build name>.<source type>.<source name>" as Packer prints it
   * (or "<source type>.<source name>" when the build block has no name). */
  buildName: string;
  /** The source type, e.g. "null" (PACKER_BUILDER_TYPE). */
  builderType: string;
  /** PACKER_RUN_UUID of this run. */
  runUuid: string;
  /** The folder builder was started in; relative paths in configs resolve against it, as in Packer. */
  cwd: string;
  /** The environment the step's processes inherit, with PACKER_BUILD_NAME, PACKER_BUILDER_TYPE and
   * PACKER_RUN_UUID set. */
  env: NodeJS.ProcessEnv;
  /** Strings to mask as `<sensitive>` in any output. */
  sensitive: readonly string[];
  /** `-force`: earlier output may be replaced (the manifest starts afresh for a new run). */
  force?: boolean;
  /** Labels a builder puts on the instance it creates (docker: container labels), so that kept
   * instances can be found and matched to their state: `builder.lineage`, `builder.workspace`,
   * `builder.template`, `builder.build` (see instanceLabels in src/stateful/stateful-run.ts).
   * Absent outside a stateful run. */
  instanceLabels?: Readonly<Record<string, string>>;
}

/** What `BuilderDef.destroyRecorded` runs with: no template, no build UI. */
export interface RecordedInstanceContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

/** What a builder created: plain JSON, saved in state so a later run can reconnect to it. */
export interface InstanceRecord {
  id: string;
  /** Connection metadata — never a secret. */
  metadata: Record<string, unknown>;
}

/** A snapshot image a builder lists (`builder snapshots list|prune`). */
export interface SnapshotListing {
  id: string;
  labels: Record<string, string>;
  /** Unix seconds. */
  created: number;
  /** Bytes, as the builder's engine reports them. */
  size: number;
}

/**
 * Snapshots of an instance, taken after a completed step, that a later run can start a new
 * instance from (docker: an image committed from the container). Ids are the builder's (an image
 * id) and are recorded on the step (StepState.snapshot); labels carry the build's lineage,
 * workspace, template, build and chain, so orphaned snapshots can be found.
 */
export interface SnapshotCapability<C = unknown> {
  take(config: C, instance: InstanceRecord, labels: Readonly<Record<string, string>>, ctx: StepContext): Promise<{ id: string }>;
  /** Creates and starts an instance from a snapshot; the record, as `create` returns it. */
  startFrom(config: C, id: string, ctx: StepContext): Promise<InstanceRecord>;
  /** False when the snapshot is gone. */
  exists(id: string, ctx: RecordedInstanceContext): Promise<boolean>;
  /** Snapshots whose labels include all of `labels`, newest first. */
  list(labels: Readonly<Record<string, string>>, ctx: RecordedInstanceContext): Promise<SnapshotListing[]>;
  /** Removes a snapshot (gone already: nothing to do). */
  remove(id: string, ctx: RecordedInstanceContext): Promise<void>;
}

export interface CommunicatorDef<C = unknown> {
  type: string;
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<C>;
  /** Opens the connection (with retries up to the configured timeout). */
  connect(config: C, ctx: StepContext): Promise<{ comm: Communicator; info: ConnectionInfo }>;
}

/**
 * A builder, split into the lifecycle the runner checkpoints: create the instance, connect to it,
 * (the runner runs provisioners), then produce the artifact; `destroy` is the cleanup.
 * `reconnect` is present when an instance can outlive a failed run and be used again.
 */
/**
 * Which plugin serves a component (absent for native ones). Part of the fingerprints of the
 * builds and steps that use it, so upgrading or replacing a plugin makes them "changed".
 * `name`: the plugin as a user knows it ("packer-plugin-amazon v1.2.3", "packer 1.6.6");
 * `digest`: SHA-256 of its executable.
 */
export interface PluginIdentity {
  component: string;
  name: string;
  version: string;
  digest: string;
}

export interface BuilderDef<C = unknown> {
  type: string;
  /** Set when a plugin serves the builder. */
  plugin?: PluginIdentity;
  /** Packer's builder id, e.g. "packer.file" (the manifest's builder_type is the source type). */
  builderId: string;
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<C>;
  create(config: C, ctx: StepContext): Promise<InstanceRecord>;
  /** `values`: the `build.*` values the builder gives (a plugin builder's hook data: `ID`, `Host`,
   * its generated variables…), instead of those builder derives from the instance and `info`; a
   * key it does not give is unknown. */
  connect(config: C, instance: InstanceRecord, ctx: StepContext): Promise<{ comm?: Communicator; info?: ConnectionInfo; values?: BuildValues }>;
  finish(config: C, instance: InstanceRecord, ctx: StepContext): Promise<Artifact | undefined>;
  destroy(config: C, instance: InstanceRecord, ctx: StepContext): Promise<void>;
  /** Checks that a recorded instance still exists; resolves false when it is gone. */
  reconnect?(config: C, instance: InstanceRecord, ctx: StepContext): Promise<boolean>;
  /** True when the instance outlives a completed build (null builder: the host it connects to). */
  instanceOutlivesBuild?: boolean;
  /** Destroys a kept instance from its record alone, without the template (`builder state rm`).
   * Absent when the builder cannot, or when the instance outlives the build (nothing to destroy). */
  destroyRecorded?(instance: InstanceRecord, ctx: RecordedInstanceContext): Promise<void>;
  /** True when Packer runs this builder's provisioners straight from its Run, without a
   * multistep StepProvision (the file builder): a failed provisioner is then not followed by
   * "Provisioning step had errors: Running the cleanup provisioner, if present...". */
  provisionsWithoutStep?: boolean;
  /** Per-step snapshots (docker); false or absent when the builder has none (null, file). */
  snapshots?: SnapshotCapability<C> | false;
}

export interface ProvisionerDef<C = unknown> {
  type: string;
  /** Set when a plugin serves the provisioner. */
  plugin?: PluginIdentity;
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<C>;
  run(config: C, ctx: StepContext & { comm?: Communicator; conn?: ConnectionInfo }): Promise<void>;
  /** Local files the step reads (scripts, sources), for fingerprints. */
  inputFiles?(config: C): string[];
}

export interface PostProcessorDef<C = unknown> {
  type: string;
  /** Set when a plugin serves the post-processor. */
  plugin?: PluginIdentity;
  configSpec: ConfigSpec;
  prepare(raw: Record<string, unknown>): PrepareResult<C>;
  /** Returns the new artifact and whether the input artifact must be kept (Packer's `keep` and
   * `forceOverride` results). */
  run(config: C, input: Artifact, ctx: StepContext): Promise<{ artifact: Artifact; keep: boolean; forceOverride: boolean }>;
  /** Local files the post-processor reads (scripts), for fingerprints, as ProvisionerDef.inputFiles. */
  inputFiles?(config: C): string[];
  /**
   * Local files the post-processor writes or appends to (the manifest's `output`, the checksum
   * files), relative to the working folder, for the build named (`{{.BuildName}}`, the builder
   * type). The planner checks only that they exist — other builds may append to them, so their
   * content is not part of an artifact's recorded hash — and runs the post-processor's chain again
   * when one is gone.
   */
  outputFiles?(config: C, names: { buildName: string; builderType: string }): string[];
}

// ---- data sources -------------------------------------------------------------------------------

/** What a data source's `execute` runs with: no build, no UI (Packer runs data sources before any
 * build starts). */
export interface DataSourceContext {
  signal: AbortSignal;
  /** The folder builder was started in. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A data source (`data "TYPE" "NAME" { … }`): it reads something outside the template and gives
 * its result as `data.TYPE.NAME.ATTR` to locals, other data sources and every build.
 *
 * Contracts:
 * - `configSpec` is what `validate` checks the block's body against (file:line:col).
 * - `prepare(raw)` is pure, as for every component: it checks and normalises the evaluated body.
 * - `outputType` is the type of what `execute` returns (Packer's OutputSpec): when data sources
 *   are not executed (`validate` without `-evaluate-datasources`), `data.TYPE.NAME` is an unknown
 *   value of this type, so that a wrong attribute is still reported.
 * - `execute(config, ctx)` does the reading and resolves to a value of `outputType`; it honours
 *   `ctx.signal`, and throws (Error or UserError) with a message that says what failed.
 */
export interface DataSourceDef<C = unknown> {
  type: string;
  /** Set when a plugin serves the data source. */
  plugin?: PluginIdentity;
  configSpec: ConfigSpec;
  outputType: Type;
  prepare(raw: Record<string, unknown>): PrepareResult<C>;
  execute(config: C, ctx: DataSourceContext): Promise<Value>;
}
