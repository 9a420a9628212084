/**
 * Reads answers from a terminal one line at a time (for `-on-error=ask`, `-debug` and the
 * `breakpoint` provisioner). One reader per run, shared by every build, so concurrent questions
 * are answered in order.
 */
import type * as Readline from 'node:readline';
import type { Readable } from 'node:stream';
import { lazyRequire } from '../lazy-require.js';

/** readline is loaded when a question is first asked: most runs ask none. */
const readline = lazyRequire<typeof Readline>('node:readline');

export class LineReader {
  private rl: Readline.Interface | undefined;
  private readonly input: Readable;
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private readonly buffered: string[] = [];
  private closed = false;

  constructor(input: Readable) {
    this.input = input;
  }

  /** Resolves to the next line, or undefined when the input ends. */
  readLine(): Promise<string | undefined> {
    this.open();
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops reading so the process can exit. */
  close(): void {
    this.rl?.close();
    this.rl = undefined;
  }

  private open(): void {
    if (this.rl || this.closed) return;
    this.rl = readline().createInterface({ input: this.input, terminal: false });
    this.rl.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.buffered.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(undefined);
    });
  }
}
