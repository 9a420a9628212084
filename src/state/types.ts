/**
 * The shape of the state file (format version STATE_FORMAT_VERSION), field names as in
 * ARCHITECTURE.md ("The state file"). Everything here is plain JSON: no Dates, no undefined
 * (optional text is the empty string, absent records are null), so that what is persisted equals
 * what is in memory.
 *
 * The state never holds the value of a sensitive variable: `templates[id].variables` is written
 * through `recordVariables` (src/state/sensitive.ts), which replaces them by salted hashes.
 *
 * One state serves every template of one folder (and workspace): builds are keyed by their
 * template's id and their name (`buildKey` in src/state/identity.ts), and each template has its
 * own record in `templates`.
 */

/** The format version this build of builder writes. Older versions are upgraded on read. */
export const STATE_FORMAT_VERSION = 3;

export const BUILD_STATUSES = ['pending', 'creating', 'provisioning', 'post_processing', 'complete', 'failed'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'complete', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** JSON data as stored in metadata maps (instance connection facts, artifact metadata). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The machine a build created and may reconnect to. Never holds a secret. */
export interface InstanceState {
  id: string;
  builder_id: string;
  provider: string;
  /** RFC 3339 time the instance was created. */
  created_at: string;
  /** Connection facts (host, port, user, …) — never passwords or private keys. */
  metadata: Record<string, JsonValue>;
  /** True when the instance was kept after a failure so that the next run can resume on it. */
  keep_on_failure: boolean;
}

/** One provisioner or post-processor of a build. */
export interface StepState {
  type: string;
  /** The `name` given in the template, or "". */
  name: string;
  status: StepStatus;
  /** Hash of the step's evaluated configuration and the files it reads; "" until known. */
  fingerprint: string;
  /** The error of the last failed attempt, or "". */
  error: string;
  /** How many times the step was started (retries included). */
  attempts: number;
  /** RFC 3339 times of the last attempt, or "". */
  started_at: string;
  ended_at: string;
  /**
   * Short salted hashes of the parts of the step's inputs (src/plan/inputs.ts): one per top-level
   * attribute (key: the attribute name) and one per local file it reads (key: "file:" + path), so
   * the planner can name what changed without the state holding any value. {} when unknown
   * (records of older versions).
   */
  inputs: Record<string, string>;
  /** A snapshot of the instance taken after this step completed, or null (see SnapshotState). */
  snapshot: SnapshotState | null;
}

/**
 * A snapshot of an instance taken after a step, a builder can start a new instance from (docker:
 * an image). `chain` is `chainHash` (src/plan/chain.ts) of the source and every provisioner up to
 * and including this step as they were applied: a run may start from the snapshot at the next
 * step only when the template's chain through this step is the same.
 */
export interface SnapshotState {
  id: string;
  chain: string;
}

export interface ArtifactState {
  id: string;
  builder_id: string;
  type: string;
  files: string[];
  metadata: Record<string, JsonValue>;
  /** Hash of the artifact's files ("sha256:…"), or "" when it has none. */
  hash: string;
}

/** One build, keyed in `builds` by "<template id>/<build name>" (see src/state/identity.ts). */
export interface BuildState {
  name: string;
  type: string;
  status: BuildStatus;
  /** Fingerprint of the evaluated source configuration; "" until known. */
  fingerprint: string;
  /** Short salted hashes of the source's attributes, as StepState.inputs; {} when unknown. */
  inputs: Record<string, string>;
  /**
   * The length of each post-processor chain, in order (`post_processors` is flat): a chain re-runs
   * from its first member. [] when unknown (records of older versions): each post-processor is then
   * taken as a chain of its own.
   */
  post_processor_chains: number[];
  error: string;
  started_at: string;
  completed_at: string;
  instance: InstanceState | null;
  provisioners: StepState[];
  post_processors: StepState[];
  artifacts: ArtifactState[];
}

export interface TemplateState {
  /** The template path as given on the command line. */
  path: string;
  /** Hash of the template's content. */
  hash: string;
  /** Variable values; sensitive ones only as salted hashes (see recordVariables). */
  variables: Record<string, JsonValue>;
  /** Hash of every file the template reads, by path. */
  files: Record<string, string>;
}

export interface LastRun {
  run_uuid: string;
  started_at: string;
  completed_at: string;
}

/** The whole state, as decoded from the file (the checksum is not part of it). */
export interface StateFile {
  version: number;
  /** Grows by exactly one with each persisted change; never goes back. */
  serial: number;
  /** A UUID created with the state; never changes. */
  lineage: string;
  /** The builder version that last wrote the state. */
  builder_version: string;
  /** The Packer language version that builder implements. */
  packer_version: string;
  /** The record of each template whose builds the state holds, by template id (src/state/identity.ts). */
  templates: Record<string, TemplateState>;
  builds: Record<string, BuildState>;
  last_run: LastRun | null;
}

export function newStep(type: string, name = ''): StepState {
  return { type, name, status: 'pending', fingerprint: '', error: '', attempts: 0, started_at: '', ended_at: '', inputs: {}, snapshot: null };
}

export function newBuild(name: string, type: string): BuildState {
  return {
    name,
    type,
    status: 'pending',
    fingerprint: '',
    inputs: {},
    post_processor_chains: [],
    error: '',
    started_at: '',
    completed_at: '',
    instance: null,
    provisioners: [],
    post_processors: [],
    artifacts: [],
  };
}
