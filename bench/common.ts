/**
 * What the build benchmarks (bench/build.bench.ts, stateful.bench.ts and compare.ts) share: the
 * repository's folder, the machine's load average, and the templates they measure, so that every
 * figure is of the same text:
 * - basic: examples/basic-null.pkr.hcl (one shell-local step + manifest), with its
 *   required_version lowered to ">= 1.6.0", which Packer 1.6.6 accepts;
 * - steps100: one null build of 100 trivial shell-local steps;
 * - builds10: ten null builds of one trivial step each.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The 1-, 5- and 15-minute load averages, as `uptime` prints them. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

const nullSource = (name: string): string => `source "null" "${name}" {\n  communicator = "none"\n}\n`;

export const basic = readFileSync(join(repo, 'examples/basic-null.pkr.hcl'), 'utf8').replace(/required_version\s*=\s*"[^"]*"/, 'required_version = ">= 1.6.0"');

export const steps100 =
  `${nullSource('s')}build {\n  sources = ["source.null.s"]\n` +
  `${Array.from({ length: 100 }, (_, i) => `  provisioner "shell-local" {\n    inline = ["echo step ${i}"]\n  }\n`).join('')}}\n`;

export const builds10 =
  Array.from({ length: 10 }, (_, i) => nullSource(`s${i}`)).join('') +
  `build {\n  sources = [${Array.from({ length: 10 }, (_, i) => `"source.null.s${i}"`).join(', ')}]\n` +
  `  provisioner "shell-local" {\n    inline = ["echo one step"]\n  }\n}\n`;
