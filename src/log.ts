/**
 * The debug log, as Packer's: on when `PACKER_LOG` or `BUILDER_LOG` is set to anything but "" or
 * "0"; written to `PACKER_LOG_PATH` (appended) when set, else to stderr. Each line is
 * `YYYY/MM/DD HH:MM:SS [LEVEL] component: message`, the timestamp in local time as Go's `log`
 * package writes it.
 *
 * Contracts:
 * - Off costs one boolean test per call site: callers write `if (log.on) log.debug(...)` around
 *   anything that builds a message, or pass a function (`log.debug('ssh', () => ...)`), which is
 *   only called when the log is on.
 * - Sensitive values never reach the log: every line goes through the same masking as the UI
 *   (`addLogSecrets`, fed with the run's sensitive variable values and connection secrets), so a
 *   secret is written `<sensitive>`.
 * - The log is process-wide (a process runs one command); `configureLog` is called by the CLI at
 *   the start of each command line and `closeLog` at its end.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Masker } from './ui/mask.js';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

type Message = string | (() => string);

interface Sink {
  write(line: string): void;
  close(): void;
}

let sink: Sink | undefined;
let masker = new Masker();

/** True when a log variable asks for the log ("1", "true", anything but "" and "0"). */
export function logRequested(env: NodeJS.ProcessEnv): boolean {
  const on = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0';
  return on(env.PACKER_LOG) || on(env.BUILDER_LOG);
}

/** Turns the log on or off for this process from `env`; `stderr` is where it goes without a path.
 * A log path that cannot be opened is said once on stderr, and the log goes to stderr instead. */
export function configureLog(env: NodeJS.ProcessEnv, stderr: Writable): void {
  closeLog();
  if (!logRequested(env)) return;
  const path = env.PACKER_LOG_PATH;
  if (path) {
    try {
      const fd = openSync(path, 'a', 0o600);
      sink = { write: (line) => void writeSync(fd, line), close: () => closeSync(fd) };
    } catch (err) {
      stderr.write(`builder: cannot write the log to PACKER_LOG_PATH=${path} (${(err as Error).message}); logging to stderr instead.\n`);
    }
  }
  sink ??= { write: (line) => void stderr.write(line), close: () => undefined };
  log.on = true;
}

/** Ends the log (closes its file). */
export function closeLog(): void {
  sink?.close();
  sink = undefined;
  masker = new Masker();
  log.on = false;
}

/** Values never written to the log (sensitive variables, passwords, private keys). */
export function addLogSecrets(values: Iterable<string>): void {
  if (log.on) masker.add(values);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Go's log.LstdFlags timestamp: "2006/01/02 15:04:05". */
export function logTimestamp(d: Date): string {
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function write(level: LogLevel, component: string, message: Message): void {
  if (!sink) return;
  const text = masker.mask(typeof message === 'function' ? message() : message);
  const stamp = `${logTimestamp(new Date())} [${level}] ${component}: `;
  sink.write(`${text.split('\n').map((l) => `${stamp}${l}`).join('\n')}\n`);
}

/** The log. `on` is the switch call sites test before building a message. */
export const log = {
  on: false,
  debug: (component: string, message: Message): void => write('DEBUG', component, message),
  info: (component: string, message: Message): void => write('INFO', component, message),
  warn: (component: string, message: Message): void => write('WARN', component, message),
  error: (component: string, message: Message): void => write('ERROR', component, message),
};

/** An argv as a log shows it: each argument JSON-quoted when it needs quoting. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
