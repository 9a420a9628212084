/**
 * builder's output in Packer's shape.
 *
 * Packer layers its UI: a build's messages get the target prefix (`==> NAME: ` for `say` and
 * `error`, `    NAME: ` for `message`, on every line, trailing white space trimmed), then an
 * optional timestamp (`-timestamp-ui`, RFC 3339, first line only), then the build's colour (the
 * whole block; bold for `say`, plain for `message`, bold red for `error`), and finally the
 * writer, which masks sensitive values as `<sensitive>`. Run-level lines ("==> Wait completed …")
 * have no prefix, timestamp or colour. Everything goes to stdout, as in Packer.
 *
 * `-machine-readable` replaces the writer: each line becomes `TIMESTAMP,TARGET,TYPE,DATA…` with
 * commas in data written `%!(PACKER_COMMA)` and newlines `\n` (see `machineLine`).
 */
import type { Writable } from 'node:stream';
import type { BuildUi, ProgressTracker } from '../sdk/component.js';
import { progressBar } from './progress.js';
import { Masker } from './mask.js';
import { addLogSecrets } from '../log.js';
import type { LineReader } from './line-reader.js';

/** Packer's build colours, in the order builds get them. */
const BUILD_COLORS = [32, 36, 35, 33, 34] as const;
const RED = 31;

export interface UiOptions {
  out: Writable;
  /** Colour output (a terminal, no -color=false, no NO_COLOR / PACKER_NO_COLOR). */
  color: boolean;
  timestamp: boolean;
  machineReadable: boolean;
  /** Reads answers from the terminal; absent when stdin is not a terminal. */
  input?: LineReader;
  /** The clock, for tests. */
  now?: () => Date;
  /** Draw progress bars for transfers (stdout is a terminal, not -machine-readable). */
  progress?: boolean;
}

type Kind = 'say' | 'message' | 'error';

/** The UI of one run: run-level lines and one `BuildUi` per build. */
export class RunUi {
  readonly masker = new Masker();
  private readonly opts: UiOptions;
  private readonly now: () => Date;

  constructor(opts: UiOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => new Date());
  }

  get machineReadable(): boolean {
    return this.opts.machineReadable;
  }

  /** A run-level line (no prefix). */
  say(message: string): void {
    this.emit('say', message);
  }

  error(message: string): void {
    this.emit('error', message);
  }

  /** A machine-readable record (`TIMESTAMP,TARGET,TYPE,DATA…`); nothing in human mode. */
  machine(target: string, type: string, ...data: string[]): void {
    if (!this.opts.machineReadable) return;
    this.write(machineLine(this.now(), target, type, data.map((d) => this.masker.mask(d))));
  }

  /** The UI of build number `index` (which picks its colour), named `name`. */
  build(name: string, index: number): TargetedUi {
    return new TargetedUi(this, name, BUILD_COLORS[index % BUILD_COLORS.length]!);
  }

  /** Asks a question on the terminal; undefined when there is none. */
  async ask(question: string): Promise<string | undefined> {
    if (!this.opts.input || this.opts.machineReadable) return undefined;
    this.emit('say', question);
    return this.opts.input.readLine();
  }

  /** A transfer's progress bar, on a terminal only (see src/ui/progress.ts). */
  trackProgress(label: string, total: number): ProgressTracker | undefined {
    if (!this.opts.progress || this.opts.machineReadable) return undefined;
    return progressBar(this.opts.out, label, total);
  }

  /** Writes one block of a build's output (already prefixed) in its colour. */
  emitBuild(kind: Kind, text: string, color: number): void {
    let body = text;
    if (this.opts.timestamp) body = `${rfc3339(this.now())}: ${body}`;
    if (this.opts.machineReadable) {
      this.write(machineLine(this.now(), '', 'ui', [kind, this.masker.mask(body)]));
      return;
    }
    if (this.opts.color) {
      const c = kind === 'error' ? RED : color;
      body = `\x1b[${kind === 'message' ? 0 : 1};${c}m${body}\x1b[0m`;
    }
    this.write(`${this.masker.mask(body)}\n`);
  }

  /** A promise while the output is congested (its buffer full), resolved when it drains or ends. */
  whenWritable(): Promise<void> | undefined {
    const out = this.opts.out;
    if (!out.writableNeedDrain) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      out.on('drain', done).on('close', done).on('error', done);
    });
  }

  get colored(): boolean {
    return this.opts.color && !this.opts.machineReadable;
  }

  private emit(kind: Kind, message: string): void {
    if (this.opts.machineReadable) {
      this.write(machineLine(this.now(), '', 'ui', [kind, this.masker.mask(message)]));
      return;
    }
    this.write(`${this.masker.mask(message)}\n`);
  }

  private write(text: string): void {
    this.opts.out.write(text);
  }
}

/** A build's UI: Packer's TargetedUI over the build's colour. */
export class TargetedUi implements BuildUi {
  readonly target: string;
  private readonly run: RunUi;
  private readonly color: number;

  constructor(run: RunUi, target: string, color: number) {
    this.run = run;
    this.target = target;
    this.color = color;
  }

  say(message: string): void {
    this.run.emitBuild('say', prefixLines('==>', this.target, message), this.color);
  }

  message(message: string): void {
    this.run.emitBuild('message', prefixLines('   ', this.target, message), this.color);
  }

  whenWritable(): Promise<void> | undefined {
    return this.run.whenWritable();
  }

  error(message: string): void {
    this.run.emitBuild('error', prefixLines('==>', this.target, message), this.color);
  }

  /** A line in the build's colour without the target prefix ("Build 'x' finished after …"). */
  sayPlain(message: string): void {
    this.run.emitBuild('say', message, this.color);
  }

  errorPlain(message: string): void {
    this.run.emitBuild('error', message, this.color);
  }

  ask(question: string): Promise<string | undefined> {
    return this.run.ask(prefixLines('==>', this.target, question));
  }

  /** Masks these values as `<sensitive>` in all further output of the run. */
  addSensitive(values: Iterable<string>): void {
    const list = [...values];
    this.run.masker.add(list);
    addLogSecrets(list);
  }

  trackProgress(label: string, total: number): ProgressTracker | undefined {
    return this.run.trackProgress(`    ${this.target}: ${label}`, total);
  }

  /** The same build's UI with another target, e.g. "file.b (compress)" for a post-processor. */
  withTarget(target: string): TargetedUi {
    return new TargetedUi(this.run, target, this.color);
  }
}

/** Packer's TargetedUI.prefixLines: every line prefixed, trailing white space trimmed. */
export function prefixLines(arrow: string, target: string, message: string): string {
  return message
    .split('\n')
    .map((line) => `${arrow} ${target}: ${line}`)
    .join('\n')
    .replace(/\s+$/u, '');
}

/** One machine-readable line: `TIMESTAMP,TARGET,TYPE,DATA…` with Packer's escaping. */
export function machineLine(now: Date, target: string, type: string, data: readonly string[]): string {
  const esc = (s: string): string => s.replaceAll(',', '%!(PACKER_COMMA)').replaceAll('\r', '\\r').replaceAll('\n', '\\n');
  return `${Math.floor(now.getTime() / 1000)},${esc(target)},${esc(type)},${data.map(esc).join(',')}\n`;
}

/** Go's time.RFC3339 in local time: 2006-01-02T15:04:05Z07:00. */
export function rfc3339(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`
  );
}

/** Whether output is coloured: a terminal, not -color=false, and neither NO_COLOR nor PACKER_NO_COLOR set. */
export function colorEnabled(isTTY: boolean, colorFlag: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && colorFlag && !env.NO_COLOR && !env.PACKER_NO_COLOR;
}
