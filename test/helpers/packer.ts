/**
 * Runs the reference Packer (1.6.6, Debian's `packer`) from tests.
 *
 * - `packerBinary()` finds the binary (`PACKER_BIN`, else `packer` on PATH) and `packerSkipReason()`
 *   says why differential tests are skipped when it is absent.
 * - `runPacker()` copies the template (a file or a folder) into a temp folder first, lowering
 *   `required_version` constraints that 1.6.6 refuses (`>= 1.7.0` and the like) to `>= 1.6.0`,
 *   and runs Packer there with a temp HOME / PACKER_CONFIG_DIR and `CHECKPOINT_DISABLE=1`, so it
 *   never phones home nor reads the user's configuration. The temp folder is removed afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';

let cachedBinary: string | null | undefined;

/** The absolute path of the packer binary, or undefined when it is not installed. */
export function packerBinary(): string | undefined {
  if (cachedBinary !== undefined) return cachedBinary ?? undefined;
  const candidates = process.env.PACKER_BIN
    ? [process.env.PACKER_BIN]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'packer'));
  cachedBinary = candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
  return cachedBinary ?? undefined;
}

/** Undefined when packer can run; otherwise the reason to give `t.skip()` / `{ skip }`. */
export function packerSkipReason(): string | undefined {
  const bin = packerBinary();
  if (!bin) return 'packer not installed (apt-get install -y packer)';
  const r = spawnSync(bin, ['version'], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  if (r.status !== 0) return `packer does not run: ${r.stderr || r.error?.message || 'unknown error'}`;
  return undefined;
}

export interface PackerResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Lowers `required_version` constraints that Packer 1.6.6 refuses only for being older than the
 * language builder implements (`>= 1.7.0` … `>= 1.11.x`) to `>= 1.6.0`, in HCL and JSON files.
 * Other constraints (`>= 99.0.0`) are left alone, so both tools still judge them.
 */
export function lowerRequiredVersion(text: string): string {
  return text.replace(/(required_version"?\s*[=:]\s*")\s*>=\s*1\.(\d+)(?:\.\d+)?\s*(")/g, (whole, head: string, minor: string, tail: string) =>
    Number(minor) >= 7 && Number(minor) <= 11 ? `${head}>= 1.6.0${tail}` : whole,
  );
}

function copyLowered(from: string, to: string): void {
  if (statSync(from).isDirectory()) {
    cpSync(from, to, { recursive: true });
    for (const name of readdirSync(to)) {
      const p = join(to, name);
      if (/\.pkr\.(hcl|json)$/.test(name) && statSync(p).isFile()) writeFileSync(p, lowerRequiredVersion(readFileSync(p, 'utf8')));
    }
  } else {
    writeFileSync(to, lowerRequiredVersion(readFileSync(from, 'utf8')));
  }
}

/**
 * Runs `packer <command> [...args] <template>` on a lowered copy of `template`. The copy keeps the
 * template's base name (Packer 1.6.6 picks HCL2 mode by the file extension); var files named in
 * `args` by absolute path are read in place. `cwd` of the run is the temp folder. Resolves when
 * packer exits (several runs may go on at once).
 */
export async function runPacker(
  command: string,
  args: readonly string[],
  template: string,
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<PackerResult> {
  const bin = packerBinary();
  if (!bin) throw new Error('packer not installed');
  const dir = mkdtempSync(join(tmpdir(), 'builder-packer-'));
  try {
    const home = join(dir, '.home');
    const work = join(dir, basename(resolve(template)));
    copyLowered(resolve(template), work);
    const child = spawn(bin, [command, ...args, work], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, PACKER_CONFIG_DIR: home, CHECKPOINT_DISABLE: '1', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.end(options.input ?? '');
    const status = await new Promise<number>((res, rej) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', rej);
      child.on('close', (code) => {
        clearTimeout(timer);
        res(code ?? 1);
      });
    });
    // Paths of the temp copy are replaced by the template's own, so output can be compared.
    const unTemp = (t: string): string => t.split(work).join(template);
    return { status, stdout: unTemp(stdout), stderr: unTemp(stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
