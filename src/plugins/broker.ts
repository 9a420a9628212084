/**
 * The stream broker on top of the multiplexer: lets either side connect a numbered callback
 * stream. Broker id 0 is the main RPC connection, dialled by the parent.
 *
 * To connect id N: the accepting side announces N (inside an RPC argument); the dialling side
 * opens a stream and writes N as a little-endian uint32; the acceptor writes the same 4 bytes
 * back as the acknowledgement. Ids are chosen by the accepting side from its own counter (from 1).
 *
 * Contracts: `dial` and `accept` reject (never hang) when the session ends; `accept` also rejects
 * after `timeoutMs`; streams that arrive for an id nobody accepts within that time are reset.
 */
import type { Readable } from 'node:stream';
import { MuxError, type MuxStream, type Session } from './mux.js';

export const ACCEPT_TIMEOUT_MS = 30_000;

/** Reads exactly `n` bytes from a paused stream, leaving the rest unread. */
export function readExactly(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tryRead = (): void => {
      const b = stream.read(n) as Buffer | null;
      if (b !== null) {
        cleanup();
        resolve(b);
      }
    };
    const onEnd = (): void => { cleanup(); reject(new MuxError('stream ended during the broker handshake')); };
    const onError = (e: Error): void => { cleanup(); reject(e); };
    const cleanup = (): void => {
      stream.off('readable', tryRead);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
    };
    stream.on('readable', tryRead);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onEnd);
    tryRead();
  });
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export class Broker {
  private counter = 0;
  private readonly arrived = new Map<number, MuxStream>();
  private readonly waiting = new Map<number, { resolve: (s: MuxStream) => void; reject: (e: Error) => void }>();

  constructor(private readonly session: Session) {
    void this.acceptLoop();
    session.onClose((err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** A fresh id for a stream this side will accept. */
  nextId(): number {
    this.counter += 1;
    return this.counter;
  }

  async dial(id: number): Promise<MuxStream> {
    const s = this.session.open();
    s.write(u32le(id));
    const ack = await readExactly(s, 4);
    if (ack.readUInt32LE(0) !== id) {
      s.destroy();
      throw new MuxError(`broker: the plugin acknowledged stream ${ack.readUInt32LE(0)} instead of ${id}`);
    }
    return s;
  }

  accept(id: number, timeoutMs = ACCEPT_TIMEOUT_MS): Promise<MuxStream> {
    const ready = this.arrived.get(id);
    if (ready) {
      this.arrived.delete(id);
      ready.write(u32le(id));
      return Promise.resolve(ready);
    }
    if (this.session.closed) return Promise.reject(new MuxError('the plugin session is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new MuxError(`broker: the plugin did not connect stream ${id}`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (s) => { clearTimeout(timer); s.write(u32le(id)); resolve(s); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  private async acceptLoop(): Promise<void> {
    for (;;) {
      let s: MuxStream;
      try {
        s = await this.session.accept();
      } catch {
        return;
      }
      void readExactly(s, 4).then((b) => {
        const id = b.readUInt32LE(0);
        const w = this.waiting.get(id);
        if (w) {
          this.waiting.delete(id);
          w.resolve(s);
          return;
        }
        this.arrived.set(id, s);
        setTimeout(() => {
          if (this.arrived.get(id) === s) {
            this.arrived.delete(id);
            s.destroy();
          }
        }, ACCEPT_TIMEOUT_MS).unref();
      }, () => s.destroy());
    }
  }
}
