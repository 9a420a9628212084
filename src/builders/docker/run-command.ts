/**
 * Packer's `run_command` is a `docker run` argument list (default
 * `-d -i -t --entrypoint=/bin/sh -- {{.Image}}`). builder creates the container through the Engine
 * API instead of a CLI, so the list is read here into create options: the flags below, then the
 * image (after `--`, or the first argument that is not a flag), then the command. `{{.Image}}` in
 * any argument is the `image` option, as in Packer. A flag outside this set is refused with its
 * name (rather than silently dropped).
 *
 * Flags: -d/--detach, -i/--interactive, -t/--tty (and combined, -dit), --rm (ignored: builder removes
 * the container itself), --entrypoint, -e/--env, -u/--user, -w/--workdir, --name, -h/--hostname,
 * -v/--volume, -l/--label, --network/--net, --privileged, --cap-add, --cap-drop, --tmpfs, --device,
 * --add-host, --platform, --init, --security-opt.
 */
export interface RunOptions {
  interactive: boolean;
  tty: boolean;
  entrypoint?: string[];
  env: string[];
  user?: string;
  workdir?: string;
  name?: string;
  hostname?: string;
  volumes: string[];
  labels: Record<string, string>;
  network?: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  tmpfs: string[];
  devices: string[];
  extraHosts: string[];
  platform?: string;
  init: boolean;
  securityOpt: string[];
  /** The image argument as written (usually `{{.Image}}`). */
  image: string;
  cmd: string[];
}

const BOOL_SHORT: Record<string, 'interactive' | 'tty' | 'detach'> = { d: 'detach', i: 'interactive', t: 'tty' };

/** Flags taking a value; the key is every spelling, the value the option it sets. */
const VALUE_FLAGS: Record<string, string> = {
  '--entrypoint': 'entrypoint',
  '-e': 'env',
  '--env': 'env',
  '-u': 'user',
  '--user': 'user',
  '-w': 'workdir',
  '--workdir': 'workdir',
  '--name': 'name',
  '-h': 'hostname',
  '--hostname': 'hostname',
  '-v': 'volume',
  '--volume': 'volume',
  '-l': 'label',
  '--label': 'label',
  '--network': 'network',
  '--net': 'network',
  '--cap-add': 'capAdd',
  '--cap-drop': 'capDrop',
  '--tmpfs': 'tmpfs',
  '--device': 'device',
  '--add-host': 'addHost',
  '--platform': 'platform',
  '--security-opt': 'securityOpt',
};

const BOOL_LONG: Record<string, string> = {
  '--detach': 'detach',
  '--interactive': 'interactive',
  '--tty': 'tty',
  '--rm': 'rm',
  '--privileged': 'privileged',
  '--init': 'init',
};

function setValue(o: RunOptions, key: string, value: string): void {
  switch (key) {
    case 'entrypoint':
      o.entrypoint = value === '' ? [] : [value];
      break;
    case 'env':
      o.env.push(value);
      break;
    case 'user':
      o.user = value;
      break;
    case 'workdir':
      o.workdir = value;
      break;
    case 'name':
      o.name = value;
      break;
    case 'hostname':
      o.hostname = value;
      break;
    case 'volume':
      o.volumes.push(value);
      break;
    case 'label': {
      const eq = value.indexOf('=');
      o.labels[eq < 0 ? value : value.slice(0, eq)] = eq < 0 ? '' : value.slice(eq + 1);
      break;
    }
    case 'network':
      o.network = value;
      break;
    case 'capAdd':
      o.capAdd.push(value);
      break;
    case 'capDrop':
      o.capDrop.push(value);
      break;
    case 'tmpfs':
      o.tmpfs.push(value);
      break;
    case 'device':
      o.devices.push(value);
      break;
    case 'addHost':
      o.extraHosts.push(value);
      break;
    case 'platform':
      o.platform = value;
      break;
    case 'securityOpt':
      o.securityOpt.push(value);
      break;
  }
}

function setBool(o: RunOptions, key: string): void {
  if (key === 'interactive') o.interactive = true;
  else if (key === 'tty') o.tty = true;
  else if (key === 'privileged') o.privileged = true;
  else if (key === 'init') o.init = true;
  // detach and rm: builder always runs the container detached and removes it itself
}

export function parseRunCommand(args: readonly string[]): { options: RunOptions; errors: string[] } {
  const o: RunOptions = {
    interactive: false,
    tty: false,
    env: [],
    volumes: [],
    labels: {},
    privileged: false,
    capAdd: [],
    capDrop: [],
    tmpfs: [],
    devices: [],
    extraHosts: [],
    init: false,
    securityOpt: [],
    image: '',
    cmd: [],
  };
  const errors: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const valueKey = VALUE_FLAGS[name];
    if (valueKey !== undefined) {
      let value: string | undefined;
      if (name !== arg) value = arg.slice(eq + 1);
      else value = args[++i];
      if (value === undefined) {
        errors.push(`run_command: flag ${name} needs a value`);
        break;
      }
      setValue(o, valueKey, value);
      continue;
    }
    const boolKey = BOOL_LONG[name];
    if (boolKey !== undefined && name === arg) {
      setBool(o, boolKey);
      continue;
    }
    if (/^-[a-z]+$/.test(arg) && [...arg.slice(1)].every((c) => c in BOOL_SHORT)) {
      for (const c of arg.slice(1)) setBool(o, BOOL_SHORT[c]!);
      continue;
    }
    errors.push(`run_command: the docker run flag ${name} is not supported by builder's docker builder (it creates containers through the Engine API); supported: -d -i -t --rm ${[...Object.keys(VALUE_FLAGS), '--privileged', '--init'].join(' ')}`);
  }
  if (errors.length === 0) {
    if (i >= args.length) errors.push('run_command: no image argument (the default run_command ends with "--", "{{.Image}}")');
    else {
      o.image = args[i]!;
      o.cmd = args.slice(i + 1);
    }
  }
  return { options: o, errors };
}
