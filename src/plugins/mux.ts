/**
 * A yamux (protocol version 0) multiplexer over one byte stream, as Packer's plugins speak it.
 *
 * Frame: a 12-byte big-endian header — version (u8, 0), type (u8: 0 data, 1 window update, 2 ping,
 * 3 go-away), flags (u16 bit mask: 1 SYN, 2 ACK, 4 FIN, 8 RST), stream id (u32), length (u32) —
 * then, for data frames only, `length` bytes of payload. For a window update `length` is the
 * window increment, for a ping an opaque value echoed back, for go-away an error code.
 *
 * Contracts:
 * - Frames may be split or merged arbitrarily by the socket: the reader reassembles them.
 * - A stream starts with a frame carrying SYN and is accepted with ACK; each side may send at most
 *   its peer's window (256 KiB initially, grown by window updates). We grant more window only as
 *   the consumer of a stream reads, so a slow reader holds the peer back instead of buffering.
 * - Pings with SYN are answered at once with ACK and the same value (the plugin drops a session
 *   whose ping goes unanswered for 10 s).
 * - FIN ends the readable side of a stream; RST or the end of the session destroys the stream with
 *   an error, so no read or write on it ever waits forever.
 * - The client opens odd stream ids, the server even ones.
 */
import { Duplex } from 'node:stream';

export const FrameType = { data: 0, windowUpdate: 1, ping: 2, goAway: 3 } as const;
export const Flag = { syn: 1, ack: 2, fin: 4, rst: 8 } as const;
export const HEADER_SIZE = 12;
export const INITIAL_WINDOW = 256 * 1024;

export interface FrameHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

export function encodeHeader(h: FrameHeader): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt8(h.version, 0);
  b.writeUInt8(h.type, 1);
  b.writeUInt16BE(h.flags, 2);
  b.writeUInt32BE(h.streamId >>> 0, 4);
  b.writeUInt32BE(h.length >>> 0, 8);
  return b;
}

export function decodeHeader(b: Buffer, offset = 0): FrameHeader {
  return {
    version: b.readUInt8(offset),
    type: b.readUInt8(offset + 1),
    flags: b.readUInt16BE(offset + 2),
    streamId: b.readUInt32BE(offset + 4),
    length: b.readUInt32BE(offset + 8),
  };
}

/**
 * Reassembles frames from arbitrary chunks. `push` returns every complete frame the chunk finished.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private header: FrameHeader | undefined;

  push(chunk: Buffer): Array<{ header: FrameHeader; payload: Buffer }> {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Array<{ header: FrameHeader; payload: Buffer }> = [];
    for (;;) {
      if (!this.header) {
        if (this.size < HEADER_SIZE) break;
        this.header = decodeHeader(this.take(HEADER_SIZE));
      }
      const need = this.header.type === FrameType.data ? this.header.length : 0;
      if (this.size < need) break;
      out.push({ header: this.header, payload: need > 0 ? this.take(need) : Buffer.alloc(0) });
      this.header = undefined;
    }
    return out;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return taken;
  }
}

export class MuxError extends Error {}

/** One multiplexed stream: a Duplex whose writes respect the peer's window. */
export class MuxStream extends Duplex {
  /** Bytes we may still send. */
  private sendWindow = INITIAL_WINDOW;
  /** Bytes received but not yet granted back to the peer. */
  private unacked = 0;
  private readPaused = false;
  private windowWaiters: Array<() => void> = [];
  private established: boolean;
  private finSent = false;
  private finReceived = false;

  constructor(private readonly session: Session, readonly id: number, opened: 'local' | 'remote') {
    super({ allowHalfOpen: true });
    this.established = opened === 'remote';
  }

  /** @internal the session delivers a frame for this stream. */
  receive(header: FrameHeader, payload: Buffer): void {
    if (header.flags & Flag.ack) this.established = true;
    if (header.type === FrameType.windowUpdate && header.length > 0) {
      this.sendWindow += header.length;
      for (const w of this.windowWaiters.splice(0)) w();
    }
    if (header.type === FrameType.data && payload.length > 0 && !this.finReceived) {
      this.unacked += payload.length;
      if (!this.push(payload)) this.readPaused = true;
      else this.grantWindow();
    }
    if (header.flags & Flag.rst) {
      this.session.forget(this.id);
      this.abort(new MuxError(`stream ${this.id} was reset by the plugin`));
      return;
    }
    if (header.flags & Flag.fin && !this.finReceived) {
      this.finReceived = true;
      this.push(null);
      this.maybeForget();
    }
  }

  /** @internal the session ended: fail whatever is pending. */
  abort(err: Error): void {
    for (const w of this.windowWaiters.splice(0)) w();
    // A stream nobody listens to for errors just closes: an unheard error would crash builder.
    if (!this.destroyed) this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }

  private grantWindow(): void {
    // Grant in batches (half the window), as yamux peers do, to keep update frames few.
    if (this.unacked >= INITIAL_WINDOW / 2 && !this.destroyed) {
      this.session.sendFrame({ type: FrameType.windowUpdate, flags: 0, streamId: this.id, length: this.unacked });
      this.unacked = 0;
    }
  }

  override _read(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.grantWindow();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeChunk(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)).then(() => cb(), cb);
  }

  private async writeChunk(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      if (this.destroyed || this.session.closed) throw new MuxError('the plugin connection is closed');
      if (this.sendWindow === 0) {
        await new Promise<void>((resolve) => this.windowWaiters.push(resolve));
        continue;
      }
      const n = Math.min(this.sendWindow, chunk.length - off);
      this.sendWindow -= n;
      this.session.sendFrame({ type: FrameType.data, flags: 0, streamId: this.id, length: n }, chunk.subarray(off, off + n));
      off += n;
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.finSent && !this.session.closed) {
      this.finSent = true;
      this.session.sendFrame({ type: FrameType.windowUpdate, flags: Flag.fin, streamId: this.id, length: 0 });
    }
    this.maybeForget();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Closing after the peer's FIN is a graceful close (FIN); closing earlier abandons the stream (RST).
    if (!this.finSent && !this.session.closed && this.session.has(this.id)) {
      this.finSent = true;
      this.session.sendFrame({ type: FrameType.windowUpdate, flags: this.finReceived ? Flag.fin : Flag.rst, streamId: this.id, length: 0 });
    }
    this.session.forget(this.id);
    cb(err);
  }

  private maybeForget(): void {
    if (this.finSent && this.finReceived) this.session.forget(this.id);
  }

  /** True once the peer acknowledged a stream we opened (or for a stream the peer opened). */
  get isEstablished(): boolean { return this.established; }
}

export interface SessionOptions {
  /** The client opens odd stream ids; the parent of a plugin is the client. */
  client: boolean;
}

/** A yamux session over `conn`. */
export class Session {
  private readonly streams = new Map<number, MuxStream>();
  private nextId: number;
  private readonly reader = new FrameReader();
  private readonly acceptQueue: MuxStream[] = [];
  private readonly acceptWaiters: Array<{ resolve: (s: MuxStream) => void; reject: (e: Error) => void }> = [];
  private goAwayReceived = false;
  private closeError: Error | undefined;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  constructor(private readonly conn: Duplex, options: SessionOptions) {
    this.nextId = options.client ? 1 : 2;
    conn.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(chunk)) this.handle(f.header, f.payload);
      } catch (e) {
        this.shutdown(e instanceof Error ? e : new MuxError(String(e)));
      }
    });
    conn.on('error', (e: Error) => this.shutdown(new MuxError(`the plugin connection failed: ${e.message}`)));
    conn.on('close', () => this.shutdown(new MuxError('the plugin closed its connection')));
    conn.on('end', () => this.shutdown(new MuxError('the plugin closed its connection')));
  }

  get closed(): boolean { return this.closeError !== undefined; }

  /** Calls `fn` once when the session ends, with the reason. */
  onClose(fn: (err: Error) => void): void {
    if (this.closeError) fn(this.closeError);
    else this.closeListeners.push(fn);
  }

  /** Opens a stream. Data may be written at once; the peer's ACK is not awaited. */
  open(): MuxStream {
    if (this.closeError) throw this.closeError;
    if (this.goAwayReceived) throw new MuxError('the plugin refuses new streams (go-away)');
    const id = this.nextId;
    this.nextId += 2;
    const s = new MuxStream(this, id, 'local');
    this.streams.set(id, s);
    this.sendFrame({ type: FrameType.windowUpdate, flags: Flag.syn, streamId: id, length: 0 });
    return s;
  }

  /** Resolves with the next stream the peer opens. */
  accept(): Promise<MuxStream> {
    const s = this.acceptQueue.shift();
    if (s) return Promise.resolve(s);
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => this.acceptWaiters.push({ resolve, reject }));
  }

  /** Sends go-away (normal) and closes the connection; every stream ends with an error. */
  close(): void {
    if (this.closeError) return;
    this.sendFrame({ type: FrameType.goAway, flags: 0, streamId: 0, length: 0 });
    this.shutdown(new MuxError('the plugin session was closed'));
    this.conn.end();
  }

  /** @internal */
  sendFrame(h: Omit<FrameHeader, 'version'>, payload?: Buffer): void {
    if (this.closeError) return;
    const header = encodeHeader({ version: 0, ...h });
    this.conn.write(payload && payload.length > 0 ? Buffer.concat([header, payload]) : header);
  }

  /** @internal */
  forget(id: number): void { this.streams.delete(id); }
  /** @internal */
  has(id: number): boolean { return this.streams.has(id); }

  private handle(h: FrameHeader, payload: Buffer): void {
    if (h.version !== 0) throw new MuxError(`unsupported yamux version ${h.version}`);
    switch (h.type) {
      case FrameType.ping:
        if (h.flags & Flag.syn) this.sendFrame({ type: FrameType.ping, flags: Flag.ack, streamId: 0, length: h.length });
        return;
      case FrameType.goAway:
        this.goAwayReceived = true;
        return;
      case FrameType.data:
      case FrameType.windowUpdate:
        break;
      default:
        throw new MuxError(`unknown yamux frame type ${h.type}`);
    }
    let s = this.streams.get(h.streamId);
    if (!s && h.flags & Flag.syn) {
      s = new MuxStream(this, h.streamId, 'remote');
      this.streams.set(h.streamId, s);
      // Acknowledge at once, as Go's yamux does on accept.
      this.sendFrame({ type: FrameType.windowUpdate, flags: Flag.ack, streamId: h.streamId, length: 0 });
      const w = this.acceptWaiters.shift();
      if (w) w.resolve(s);
      else this.acceptQueue.push(s);
    }
    if (!s) return; // a frame for a stream already forgotten (late window update): ignore
    s.receive(h, payload);
  }

  private shutdown(err: Error): void {
    if (this.closeError) return;
    this.closeError = err;
    for (const s of this.streams.values()) s.abort(err);
    this.streams.clear();
    for (const w of this.acceptWaiters.splice(0)) w.reject(err);
    for (const s of this.acceptQueue.splice(0)) s.abort(err);
    for (const fn of this.closeListeners.splice(0)) fn(err);
    if (!this.conn.destroyed) this.conn.destroy();
  }
}
