/**
 * A step printing a flood of output to a slow reader (issue 15): `builder build` of one null build
 * whose shell-local step prints BENCH_OUTPUT_MB MiB (default 1024) in 100-character lines, and a
 * second of one line without a newline (BENCH_LINE_MB, default 256 MiB), with builder's stdout read
 * at BENCH_READ_MBPS MiB/s (default 64) by this process. Measured: wall time and builder's peak
 * resident memory (VmHWM from /proc, sampled every 50 ms — it only grows, so the last sample
 * before exit is the peak to within that interval). Run: `node dist/bench/output.bench.js`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, repo } from './common.js';

const outputMb = Number(process.env.BENCH_OUTPUT_MB ?? 1024);
const lineMb = Number(process.env.BENCH_LINE_MB ?? 256);
const readMbps = Number(process.env.BENCH_READ_MBPS ?? 64);

function template(command: string): string {
  return `source "null" "flood" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.flood"]\n  provisioner "shell-local" {\n    inline = [${JSON.stringify(command)}]\n  }\n}\n`;
}

function peakKib(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function measure(name: string, command: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-output-'));
  try {
    writeFileSync(join(dir, 'flood.pkr.hcl'), template(command));
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(repo, 'bin/builder.cjs'), 'build', '-color=false', 'flood.pkr.hcl'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakKib(child.pid!) ?? 0)), 50);
    // The slow reader: take what is there, then wait as long as reading it at readMbps takes.
    let received = 0;
    child.stdout.on('readable', function onReadable(this: NodeJS.ReadableStream) {
      const chunk = child.stdout.read() as Buffer | null;
      if (!chunk) return;
      received += chunk.length;
      child.stdout.pause();
      child.stdout.off('readable', onReadable);
      setTimeout(() => {
        child.stdout.on('readable', onReadable);
        child.stdout.resume();
      }, (chunk.length / (readMbps * 1024 * 1024)) * 1000);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(sampler);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `| ${name} | ${seconds.toFixed(1)} s | ${(peak / 1024).toFixed(0)} MiB | ${(received / 1024 / 1024).toFixed(0)} MiB read | exit ${code} |\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`load average ${loadAverage()}; reader ${readMbps} MiB/s\n\n| workload | wall | builder peak RSS | output | status |\n|---|---|---|---|---|\n`);
await measure(`${outputMb} MiB in 100-character lines`, `head -c ${outputMb * 1024 * 1024} /dev/zero | tr '\\\\0' a | fold -w 100`);
await measure(`one ${lineMb} MiB line, no newline`, `head -c ${lineMb * 1024 * 1024} /dev/zero | tr '\\\\0' b`);
