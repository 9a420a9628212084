/** The local file backend passes the shared backend conformance suite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runBackendConformance } from './conformance.js';
import { createFileClient } from './helpers/file-backend.js';

const moduleUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'file-backend.js')).href;

runBackendConformance('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'builder-conformance-'));
  const options = { path: join(dir, 'state.json') };
  return {
    open: async () => createFileClient(options),
    spec: { module: moduleUrl, export: 'createFileClient', args: [options] },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
