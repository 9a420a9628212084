/**
 * Pull-style reading of a byte stream (an SSH channel's stdout), for request/response protocols
 * such as scp: read one byte, one line, or exactly N bytes, in order. Applies back-pressure: the
 * stream is paused while more than `highWaterMark` bytes wait to be read.
 */
import type { Readable } from 'node:stream';

/** Thrown when the stream ends before the requested bytes arrived. */
export class EndOfStreamError extends Error {
  constructor() {
    super('unexpected end of stream');
    this.name = 'EndOfStreamError';
  }
}

export class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly highWaterMark = 4 * 1024 * 1024,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > this.highWaterMark) stream.pause();
      this.notify();
    });
    const finish = (): void => {
      this.ended = true;
      this.notify();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (err: Error) => {
      this.failure = err;
      finish();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves once at least one byte is buffered; throws at the end of the stream. */
  private async waitForData(): Promise<void> {
    while (this.buffered === 0) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) throw new EndOfStreamError();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Takes up to `max` bytes from the front of the buffer. */
  private take(max: number): Buffer {
    const first = this.chunks[0]!;
    let piece: Buffer;
    if (first.length <= max) {
      piece = first;
      this.chunks.shift();
    } else {
      piece = first.subarray(0, max);
      this.chunks[0] = first.subarray(max);
    }
    this.buffered -= piece.length;
    if (this.buffered <= this.highWaterMark && this.stream.isPaused()) this.stream.resume();
    return piece;
  }

  async readByte(): Promise<number> {
    await this.waitForData();
    return this.take(1)[0]!;
  }

  /** Reads up to and including "\n"; returns the line without it. */
  async readLine(): Promise<string> {
    const parts: Buffer[] = [];
    while (true) {
      await this.waitForData();
      const first = this.chunks[0]!;
      const nl = first.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(this.take(nl + 1));
        const line = Buffer.concat(parts);
        return line.subarray(0, line.length - 1).toString('utf8');
      }
      parts.push(this.take(first.length));
    }
  }

  /** Delivers exactly `n` bytes to `sink`, piece by piece, in order. */
  async readExact(n: number, sink: (piece: Buffer) => Promise<void> | void): Promise<void> {
    let left = n;
    while (left > 0) {
      await this.waitForData();
      const piece = this.take(left);
      left -= piece.length;
      await sink(piece);
    }
  }
}
