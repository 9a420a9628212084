/**
 * The `null` builder (Packer's builder/null, id "fnoeding.null"): creates nothing; connects to an
 * existing machine with its communicator (`communicator = "none"` for no connection, `"ssh"`, the
 * default, for a host given by `ssh_host`), runs the provisioners there, and exports nothing.
 * Its instance is the machine it connects to, which outlives any build, so a later run can always
 * reconnect to it.
 */
import type { Artifact, BuilderDef, CommunicatorDef, ConfigSpec } from '../sdk/component.js';
import { communicators } from '../communicators/registry.js';

export interface NullConfig {
  communicator: string;
  /** The communicator's own prepared configuration. */
  comm: unknown;
  host?: string;
}

export const NULL_BUILDER_ID = 'fnoeding.null';

/** Every communicator's attributes, since the source block holds the communicator's settings. */
function communicatorAttributes(): ConfigSpec['attributes'] {
  const attrs: ConfigSpec['attributes'] = { communicator: { type: 'string' } };
  for (const def of communicators) Object.assign(attrs, def.configSpec.attributes);
  return attrs;
}

export const nullArtifact: Artifact = {
  builderId: NULL_BUILDER_ID,
  id: 'Null',
  files: [],
  description: 'Did not export anything. This is the null builder',
  state: {},
  async destroy() {},
};

function commDef(type: string): CommunicatorDef<unknown> | undefined {
  return communicators.get(type) as CommunicatorDef<unknown> | undefined;
}

export const nullBuilder = {
  type: 'null',
  builderId: NULL_BUILDER_ID,
  configSpec: { attributes: communicatorAttributes() },
  instanceOutlivesBuild: true,
  prepare(raw) {
    const type = typeof raw.communicator === 'string' && raw.communicator !== '' ? raw.communicator : 'ssh';
    const def = commDef(type);
    if (!def) return { errors: [`communicator type "${type}" is not supported (use "none" or "ssh")`], warnings: [] };
    const errors: string[] = [];
    const str = (k: string): string => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
    if (type !== 'none') {
      // Packer's null builder checks these itself, before the communicator does.
      if (str('ssh_host') === '') errors.push('a Host must be specified, please reference your communicator documentation');
      if (str('ssh_username') === '') errors.push('a Username must be specified, please reference your communicator documentation');
      const agent = raw.ssh_agent_auth === true;
      const password = str('ssh_password') !== '';
      const key = str('ssh_private_key_file') !== '';
      if (!agent && !password && !key) {
        errors.push('one authentication method must be specified, please reference your communicator documentation');
      }
      if ((agent && (password || key)) || (password && key)) {
        errors.push('only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified');
      }
    }
    const prepared = def.prepare(raw);
    errors.push(...prepared.errors);
    return {
      config: errors.length === 0 ? { communicator: type, comm: prepared.config, host: str('ssh_host') || undefined } : undefined,
      errors,
      warnings: prepared.warnings,
    };
  },
  async create(config) {
    // "Null" is the instance id Packer's null builder gives, which templates see as build.ID; the
    // host it connects to, if any, is in the metadata.
    return { id: 'Null', metadata: { communicator: config.communicator, ...(config.host ? { host: config.host } : {}) } };
  },
  async connect(config, _instance, ctx) {
    const def = commDef(config.communicator);
    if (!def) throw new Error(`communicator type "${config.communicator}" is not supported`);
    const { comm, info } = await def.connect(config.comm, ctx);
    return { comm, info };
  },
  async finish() {
    return nullArtifact;
  },
  async destroy() {},
  async reconnect() {
    return true;
  },
} satisfies BuilderDef<NullConfig>;
