/**
 * The RPC services the parent serves to a plugin on a callback stream: `Ui` (the build's output),
 * `Communicator` (our connection to the machine) and `Artifact` (a post-processor's input).
 *
 * Contracts:
 * - Ui text reaches the build's `BuildUi` unchanged (it masks secrets itself); `Ask` answers ""
 *   without a terminal; `Machine` output is dropped (builder has no machine-readable mode here);
 *   `NewTrackProgress` is refused (the plugin then transfers without a progress bar).
 * - Communicator calls work on our `Communicator`; with none, each call fails with a message saying
 *   the build has no communicator. A command's output streams and exit status travel on the
 *   broker streams the plugin named; the exit status is a gob `CommandFinished`, sent after the
 *   output streams are closed.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact, BuildUi, Communicator } from '../sdk/component.js';
import type { Broker } from './broker.js';
import { encodeCommandFinished } from './gob.js';
import { field, type RpcHandler } from './rpc.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v === null || v === undefined ? '' : String(v);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

export function uiHandlers(ui: BuildUi): Record<string, RpcHandler> {
  return {
    'Ui.Say': (m) => { ui.say(str(m)); return null; },
    'Ui.Message': (m) => { ui.message(str(m)); return null; },
    'Ui.Error': (m) => { ui.error(str(m)); return null; },
    'Ui.Machine': () => null,
    // Progress bars: a 1.6.6 plugin whose NewTrackProgress fails transfers without one (its file
    // provisioner uploads normally), so builder shows none.
    'Ui.NewTrackProgress': () => { throw new Error('builder shows no progress bars'); },
    'Ui.Ask': async (q) => (ui.ask ? (await ui.ask(str(q))) ?? '' : ''),
  };
}

export function communicatorHandlers(comm: Communicator | undefined, broker: Broker, signal: AbortSignal): Record<string, RpcHandler> {
  const need = (): Communicator => {
    if (!comm) throw new Error('this build has no communicator (communicator = "none")');
    return comm;
  };
  return {
    'Communicator.Start': async (args) => {
      const c = need();
      const [stdin, stdout, stderr] = await Promise.all(
        ['StdinStreamId', 'StdoutStreamId', 'StderrStreamId'].map((k) => (num(field(args, k)) > 0 ? broker.dial(num(field(args, k))) : Promise.resolve(undefined))),
      );
      const response = await broker.dial(num(field(args, 'ResponseStreamId')));
      void c.start({
        command: str(field(args, 'Command')),
        ...(stdin ? { stdin } : {}),
        onStdout: (line) => stdout?.write(`${line}\n`),
        onStderr: (line) => stderr?.write(`${line}\n`),
      }, signal).then(
        (r) => r.exitStatus ?? -1,
        () => -1,
      ).then((status) => {
        stdout?.end();
        stderr?.end();
        stdin?.destroy();
        response.end(encodeCommandFinished(status));
      });
      return null;
    },
    'Communicator.Upload': async (args) => {
      const c = need();
      const reader = await broker.dial(num(field(args, 'ReaderStreamId')));
      // FileInfo is {N name, S size, M mode, T mtime} (Packer 1.6.6), or nil.
      const mode = num(field(field(args, 'FileInfo'), 'M')) || undefined;
      await c.upload(str(field(args, 'Path')), reader, mode !== undefined ? mode & 0o7777 : undefined, signal);
      return null;
    },
    'Communicator.UploadDir': async (args) => {
      const ex = field(args, 'Exclude');
      await need().uploadDir(str(field(args, 'Dst')), str(field(args, 'Src')), Array.isArray(ex) ? ex.map(str) : [], signal);
      return null;
    },
    'Communicator.Download': async (args) => {
      const c = need();
      const writer = await broker.dial(num(field(args, 'WriterStreamId')));
      const dir = mkdtempSync(join(tmpdir(), 'builder-download-'));
      try {
        const local = join(dir, 'file');
        await c.download(str(field(args, 'Path')), local, signal);
        await new Promise<void>((resolve, reject) => {
          createReadStream(local).on('error', reject).pipe(writer).on('finish', resolve).on('error', reject);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return null;
    },
    'Communicator.DownloadDir': async (args) => {
      await need().downloadDir(str(field(args, 'Src')), str(field(args, 'Dst')), signal);
      return null;
    },
  };
}

export function artifactHandlers(a: Artifact): Record<string, RpcHandler> {
  return {
    'Artifact.BuilderId': () => a.builderId,
    'Artifact.Id': () => a.id,
    'Artifact.String': () => a.description,
    'Artifact.Files': () => a.files,
    'Artifact.State': (name) => a.state[str(name)] ?? null,
    'Artifact.Destroy': async () => { await a.destroy(); return null; },
  };
}
