/**
 * Packer's legacy template fixers (`packer fix`): the 34 that Packer 1.6.6 runs and current
 * Packer still keeps, unchanged since 1.6.6, in Packer's order, each rewriting the decoded JSON
 * template the way its Go original does (including its quirks: most fixers write `builders` back
 * even when the template had none, which Packer prints as `"builders": null`).
 *
 * Contract: `fix` takes the decoded template (an object) and returns it fixed; it throws a
 * `FixError` with mapstructure's wording when `builders` (or `post-processors`) cannot be read
 * as Packer's fixers read them.
 */
export type Json = null | boolean | number | string | Json[] | JsonMap;
export interface JsonMap {
  [key: string]: Json;
}

export class FixError extends Error {}

export interface Fixer {
  name: string;
  synopsis: string;
  fix(input: JsonMap): JsonMap;
}

const isMap = (v: Json | undefined): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (m: JsonMap, k: string): boolean => Object.hasOwn(m, k);

function goKind(v: Json | undefined): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

/** `mapstructure.Decode(input, &struct{ Builders []map[string]interface{} })`. */
function decodeBuilders(input: JsonMap): JsonMap[] | null {
  const raw = input.builders;
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw new FixError(`1 error(s) decoding:\n\n* 'Builders': source data must be an array or slice, got ${goKind(raw)}`);
  const bad = raw.map((b, i) => (isMap(b) || b === null ? undefined : `* 'Builders[${i}]' expected a map, got '${goKind(b)}'`)).filter((x) => x !== undefined);
  if (bad.length > 0) throw new FixError(`${bad.length} error(s) decoding:\n\n${bad.join('\n')}`);
  return raw.map((b) => (isMap(b) ? b : {}));
}

/** A fixer over each builder (decoded strictly), written back unconditionally as Packer does. */
function builderFixer(name: string, synopsis: string, each: (b: JsonMap, type: string | undefined) => void): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const builders = decodeBuilders(input);
      for (const b of builders ?? []) each(b, typeof b.type === 'string' ? b.type : undefined);
      input.builders = builders;
      return input;
    },
  };
}

/** A fixer over the maps among the builders or provisioners (weakly decoded, so a lone map counts
 * as a list of one), written back only when there are some. */
function weakListFixer(name: string, synopsis: string, key: 'builders' | 'provisioners', each: (m: JsonMap) => void): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      const raw = input[key];
      const list = Array.isArray(raw) ? raw : isMap(raw) ? [raw] : [];
      for (const m of list) if (isMap(m)) each(m);
      if (list.length > 0) input[key] = list;
      return input;
    },
  };
}

/** A fixer over every post-processor map (in chains too); skipped when there are none. */
function ppFixer(name: string, synopsis: string, each: (pp: JsonMap) => void, alsoBuilders?: (b: JsonMap) => void): Fixer {
  return {
    name,
    synopsis,
    fix(input) {
      if (input['post-processors'] === undefined || input['post-processors'] === null) return input;
      const builders = alsoBuilders ? decodeBuilders(input) : undefined;
      const raw = input['post-processors'];
      if (!Array.isArray(raw)) throw new FixError(`1 error(s) decoding:\n\n* 'post-processors': source data must be an array or slice, got ${goKind(raw)}`);
      for (const entry of raw) {
        if (isMap(entry)) each(entry);
        else if (Array.isArray(entry)) for (const inner of entry) if (isMap(inner)) each(inner);
      }
      if (alsoBuilders) {
        for (const b of builders ?? []) alsoBuilders(b);
        input.builders = builders ?? null;
      }
      input['post-processors'] = raw;
      return input;
    },
  };
}

/** Moves `from` to `to` when present. */
function rename(m: JsonMap, from: string, to: string): void {
  if (!has(m, from)) return;
  m[to] = m[from]!;
  delete m[from];
}

/** Replaces `from` by `to` unless `to` is there already (then `from` is dropped); only when `from` passes `ok`. */
function renameUnlessSet(m: JsonMap, from: string, to: string, ok: (v: Json) => boolean): void {
  if (!has(m, from) || !ok(m[from]!)) return;
  if (!has(m, to)) m[to] = m[from]!;
  delete m[from];
}

const isString = (v: Json): boolean => typeof v === 'string';
const isBool = (v: Json): boolean => typeof v === 'boolean';
const amazon = (t: string | undefined): boolean => t?.startsWith('amazon-') ?? false;

/** Go's strings.NewReplacer for PowerShell escapes: one left-to-right pass. */
function psUnescape(s: string): string {
  return s.replace(/`[$"`']/g, (m) => m[1]!);
}

function goParseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new FixError(`ssh_private_ip is not a boolean, strconv.ParseBool: parsing "${s}": invalid syntax`);
}

function tagsOf(v: Json | undefined): string[] {
  if (Array.isArray(v)) return v.map((t) => (typeof t === 'string' ? t : String(t)));
  if (typeof v === 'string') return v.split(',').map((t) => t.trim());
  return [];
}

export const FIXERS: readonly Fixer[] = [
  builderFixer('iso-md5', 'Replaces "iso_md5" in builders with "iso_checksum"', (b) => {
    if (typeof b.iso_md5 !== 'string') return;
    b.iso_checksum = b.iso_md5;
    b.iso_checksum_type = 'md5';
    delete b.iso_md5;
  }),
  builderFixer('createtime', 'Replaces ".CreateTime" in builder configs with "{{timestamp}}"', (b) => {
    for (const key of ['ami_name', 'bundle_prefix', 'snapshot_name']) {
      const v = b[key];
      if (typeof v === 'string') b[key] = v.replace(/\{\{\s*\.CreateTime\s*\}\}/g, '{{timestamp}}');
    }
  }),
  builderFixer('virtualbox-gaattach', 'Updates VirtualBox builders using "guest_additions_attach" to use "guest_additions_mode"', (b, type) => {
    if (type !== 'virtualbox' || typeof b.guest_additions_attach !== 'boolean') return;
    b.guest_additions_mode = b.guest_additions_attach ? 'attach' : 'upload';
    delete b.guest_additions_attach;
  }),
  ppFixer('pp-vagrant-override', 'Fixes provider-specific overrides for Vagrant post-processor', (pp) => {
    if (pp.type !== 'vagrant') return;
    const overrides: JsonMap = {};
    for (const name of ['aws', 'digitalocean', 'virtualbox', 'vmware']) {
      if (!has(pp, name)) continue;
      overrides[name] = pp[name]!;
      delete pp[name];
    }
    if (Object.keys(overrides).length > 0) pp.override = overrides;
  }),
  {
    name: 'virtualbox-rename',
    synopsis: 'Updates "virtualbox" builders to "virtualbox-iso"',
    fix(input) {
      const builders = Array.isArray(input.builders) ? input.builders.filter(isMap) : [];
      for (const b of builders) if (b.type === 'virtualbox') b.type = 'virtualbox-iso';
      const provs = Array.isArray(input.provisioners) ? input.provisioners : [];
      for (const p of provs) if (isMap(p) && isMap(p.override)) rename(p.override, 'virtualbox', 'virtualbox-iso');
      if (builders.length > 0) input.builders = builders;
      if (provs.length > 0) input.provisioners = provs;
      return input;
    },
  },
  builderFixer('vmware-rename', 'Updates "vmware" builders to "vmware-iso"', (b, type) => {
    if (type === 'vmware') b.type = 'vmware-iso';
  }),
  builderFixer('parallels-headless', 'Removes unused "headless" from Parallels builders', (b, type) => {
    if (type === 'parallels-iso' || type === 'parallels-pvm') delete b.headless;
  }),
  builderFixer(
    'parallels-deprecations',
    'Removes deprecated "parallels_tools_host_path" from Parallels builders and changes "guest_os_distribution" to "guest_os_type".',
    (b, type) => {
      if (type !== 'parallels-iso' && type !== 'parallels-pvm') return;
      delete b.parallels_tools_host_path;
      rename(b, 'guest_os_distribution', 'guest_os_type');
    },
  ),
  builderFixer('sshkeypath', 'Updates builders using "ssh_key_path" to use "ssh_private_key_file"', (b) => renameUnlessSet(b, 'ssh_key_path', 'ssh_private_key_file', isString)),
  builderFixer('sshdisableagent', 'Updates builders using "ssh_disable_agent" to use "ssh_disable_agent_forwarding"', (b) =>
    renameUnlessSet(b, 'ssh_disable_agent', 'ssh_disable_agent_forwarding', isBool),
  ),
  builderFixer('scaleway-access-key', 'Updates builders using "access_key" to use "organization_id"', (b, type) => {
    if (type === 'scaleway') renameUnlessSet(b, 'access_key', 'organization_id', isString);
  }),
  ppFixer('manifest-filename', 'Updates "manifest" post-processor so any "filename" field is renamed to "output".', (pp) => {
    if (pp.type === 'manifest' && typeof pp.filename === 'string') rename(pp, 'filename', 'output');
  }),
  builderFixer('amazon-shutdown_behavior', 'Changes "shutdown_behaviour" to "shutdown_behavior" in Amazon builders.', (b, type) => {
    if (amazon(type)) rename(b, 'shutdown_behaviour', 'shutdown_behavior');
  }),
  builderFixer('amazon-enhanced-networking', 'Replaces "enhanced_networking" in builders with "ena_support"', (b, type) => {
    if (amazon(type) && typeof b.enhanced_networking === 'boolean') rename(b, 'enhanced_networking', 'ena_support');
  }),
  builderFixer('amazon-private-ip', 'Replaces `"ssh_private_ip": true` in amazon builders with `"ssh_interface": "private_ip"`', (b, type) => {
    if (!amazon(type) || has(b, 'ssh_interface') || !has(b, 'ssh_private_ip')) return;
    const v = b.ssh_private_ip!;
    const privateIp = typeof v === 'boolean' ? v : goParseBool(typeof v === 'string' ? v : String(v));
    delete b.ssh_private_ip;
    b.ssh_interface = privateIp ? 'private_ip' : 'public_ip';
  }),
  builderFixer(
    'amazon-temp-sec-cidrs',
    'Replaces "temporary_security_group_source_cidr" (string) with "temporary_security_group_source_cidrs" (list of strings)',
    (b, type) => {
      const v = b.temporary_security_group_source_cidr;
      if (!amazon(type) || typeof v !== 'string') return;
      delete b.temporary_security_group_source_cidr;
      b.temporary_security_group_source_cidrs = [v];
    },
  ),
  ppFixer(
    'docker-email',
    'Removes "login_email" from the Docker builder.',
    (pp) => void delete pp.login_email,
    (b) => void delete b.login_email,
  ),
  ppFixer('docker-tag-tags', 'Updates "docker" post-processor so any "tag" field is renamed to "tags".', (pp) => {
    if (pp.type !== 'docker-tag') return;
    const all = [...tagsOf(pp.tag), ...tagsOf(pp.tags)];
    delete pp.tag;
    pp.tags = [...new Set(all)];
  }),
  weakListFixer('powershell-escapes', 'Removes PowerShell escapes from user env vars and elevated username and password strings', 'provisioners', (p) => {
    if (p.type !== 'powershell') return;
    for (const k of ['elevated_user', 'elevated_password']) if (typeof p[k] === 'string') p[k] = psUnescape(p[k]);
    const env = p.environment_vars;
    if (Array.isArray(env) && env.every((e) => typeof e === 'string')) p.environment_vars = env.map((e) => psUnescape(e as string));
  }),
  builderFixer('vmware-compaction', 'Adds "skip_compaction = true" to "vmware-iso" builders with incompatible disk_type_id', (b, type) => {
    if (type !== 'vmware-iso' || b.remote_type !== 'esx5') return;
    if (!has(b, 'disk_type_id')) b.disk_type_id = 'zeroedthick';
    else if (typeof b.disk_type_id !== 'string' || b.disk_type_id === 'thin') return;
    if (has(b, 'skip_compaction')) {
      if (b.skip_compaction === false) b.skip_compaction = true;
      return;
    }
    b.skip_compaction = true;
  }),
  builderFixer('hyperv-deprecations', 'Removes the deprecated "vhd_temp_path" setting from Hyper-V ISO builder templates', (b, type) => {
    if (type === 'hyperv-iso') delete b.vhd_temp_path;
  }),
  builderFixer('hyperv-vmxc-typo', 'Fixes a typo replacing "clone_from_vmxc_path" with "clone_from_vmcx_path" in Hyper-V VMCX builder templates', (b, type) => {
    if (type === 'hyperv-vmcx') rename(b, 'clone_from_vmxc_path', 'clone_from_vmcx_path');
  }),
  builderFixer('hyperv-cpu-and-ram', 'Replaces "cpu" with "cpus" and "ram_size" with "memory"in Hyper-V VMCX builder templates', (b, type) => {
    if (type !== 'hyperv-vmcx' && type !== 'hyperv-iso') return;
    rename(b, 'cpu', 'cpus');
    rename(b, 'ram_size', 'memory');
  }),
  builderFixer('clean-image-name', 'Replaces /clean_(image|ami)_name/ in builder configs with "clean_resource_name"', (b) => {
    const re = /clean_(image|ami)_name/g;
    for (const [k, v] of Object.entries(b)) {
      if (typeof v === 'string') b[k] = v.replace(re, 'clean_resource_name');
      else if (isMap(v)) for (const [ik, iv] of Object.entries(v)) if (typeof iv === 'string') v[ik] = iv.replace(re, 'clean_resource_name');
    }
  }),
  builderFixer('spot-price-auto-product', 'Removes the deprecated "spot_price_auto_product" setting from Amazon builder templates', (b, type) => {
    if (['amazon-ebs', 'amazon-ebssurrogate', 'amazon-ebsvolume', 'amazon-instance'].includes(type ?? '')) delete b.spot_price_auto_product;
  }),
  builderFixer('qemu-disk-size', 'Updates "disk_size" from int to string in QEMU builders.', (b, type) => {
    if (type === 'qemu' && typeof b.disk_size === 'number') b.disk_size = `${Math.trunc(b.disk_size)}M`;
  }),
  weakListFixer('galaxy-command', 'Replaces "galaxycommand" in ansible-local provisioner configs with "galaxy_command"', 'provisioners', (p) => {
    if (p.type === 'ansible-local') renameUnlessSet(p, 'galaxycommand', 'galaxy_command', (v) => isString(v) || has(p, 'galaxy_command'));
  }),
  weakListFixer(
    'comm-config',
    'Remove ssh prefixes from communicator port forwarding configuration (host_port_min, host_port_max, skip_nat_mapping)',
    'builders',
    (b) => {
      if (typeof b.type !== 'string' || !b.type.startsWith('virtualbox')) return;
      renameUnlessSet(b, 'ssh_host_port_min', 'host_port_min', () => true);
      renameUnlessSet(b, 'ssh_host_port_max', 'host_port_max', () => true);
      renameUnlessSet(b, 'ssh_skip_nat_mapping', 'skip_nat_mapping', (v) => isBool(v) || has(b, 'skip_nat_mapping'));
    },
  ),
  weakListFixer('ssh-wait-timeout', 'Replaces "ssh_wait_timeout" with "ssh_timeout"', 'builders', (b) =>
    renameUnlessSet(b, 'ssh_wait_timeout', 'ssh_timeout', (v) => isString(v) || has(b, 'ssh_timeout')),
  ),
  builderFixer('vsphere-iso-net-disk', 'Removes deprecated network and disk fields from "vsphere-iso" builder', (b, type) => {
    if (type !== 'vsphere-iso') return;
    const nic: JsonMap = {};
    let hasNetwork = false;
    for (const [from, to] of [
      ['network', 'network'],
      ['networkCard', 'network_card'],
      ['network_card', 'network_card'],
    ] as const) {
      if (!has(b, from)) continue;
      nic[to] = b[from]!;
      delete b[from];
      hasNetwork = true;
    }
    if (hasNetwork) b.network_adapters = [nic, ...(Array.isArray(b.network_adapters) ? b.network_adapters : [])];
    const disk: JsonMap = {};
    let hasStorage = false;
    for (const key of ['disk_size', 'disk_thin_provisioned', 'disk_eagerly_scrub']) {
      if (!has(b, key)) continue;
      disk[key] = b[key]!;
      delete b[key];
      hasStorage = true;
    }
    if (hasStorage) b.storage = [disk, ...(Array.isArray(b.storage) ? b.storage : [])];
  }),
  builderFixer('iso-checksum-type-and-url', 'Puts content of potential "iso_checksum_url" and "iso_checksum_url" in "iso_checksum"', (b) => {
    const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
    const url = str(b.iso_checksum_url);
    const type = str(b.iso_checksum_type);
    let checksum = str(b.iso_checksum);
    delete b.iso_checksum_url;
    delete b.iso_checksum_type;
    if (checksum === '' && url === '') return;
    if (url !== '') checksum = `file:${url}`;
    else if (type !== '') checksum = `${type}:${checksum}`;
    b.iso_checksum = checksum;
  }),
  builderFixer('qemu-host-port', 'Updates ssh_host_port_min and ssh_host_port_max to host_port_min and host_port_max', (b, type) => {
    if (type !== 'qemu') return;
    rename(b, 'ssh_host_port_min', 'host_port_min');
    rename(b, 'ssh_host_port_max', 'host_port_max');
  }),
  builderFixer('azure-exclude_from_latest', 'Changes "exlude_from_latest" to "exclude_from_latest" in Azure builders.', (b, type) => {
    if (type?.startsWith('azure-chroot') && isMap(b.shared_image_destination)) rename(b.shared_image_destination, 'exlude_from_latest', 'exclude_from_latest');
  }),
  builderFixer('proxmox-type', 'Updates the builder type proxmox to proxmox-iso', (b, type) => {
    if (type === 'proxmox') b.type = 'proxmox-iso';
  }),
];
