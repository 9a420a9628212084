/**
 * Connections of the PostgreSQL backend: one small pool per client, with the hygiene a long
 * build needs. Contracts:
 * - every connection gets an `error` listener (a dropped connection must never crash Node);
 * - connect and query timeouts, TCP keep-alive, `application_name` naming the holder;
 * - no session state: each unit of work is one statement or one transaction, so PgBouncer in
 *   transaction mode works; a connection that failed inside a transaction is discarded;
 * - the password never appears in `location`, in messages or in anything stored.
 * libpq's environment (PGHOST, PGUSER, PGPASSWORD, PGSSLMODE, …) and URL parameters (sslmode,
 * sslrootcert, …) are read by `pg` itself.
 */
import pg from 'pg';
import { UserError } from '../../errors.js';

export interface ConnectionOptions {
  url: string;
  applicationName: string;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Connections per client; default 4. */
  max?: number;
  onWarning: (message: string) => void;
}

/** The URL without its password (nor any password parameter): what messages and lock info show. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'postgres://(unparsable URL)';
  }
  u.password = '';
  for (const p of ['password', 'sslpassword']) u.searchParams.delete(p);
  return u.toString();
}

/** application_name is at most 63 bytes; keep it ASCII. */
export function applicationName(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 63);
}

export function createPool(options: ConnectionOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    application_name: applicationName(options.applicationName),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs ?? 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 30_000,
    max: options.max ?? 4,
    allowExitOnIdle: true,
  });
  let warned = false;
  const onError = (err: Error): void => {
    // An idle connection was dropped (server restart, terminated backend, network): the pool
    // replaces it; say so once rather than crash.
    if (!warned) options.onWarning(`a connection to the PostgreSQL state was lost (${err.message}); reconnecting.`);
    warned = true;
  };
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    warned = false;
  });
  return pool;
}

/** SQLSTATE classes and Node errors after which a retry on a fresh connection may succeed. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') {
    if (/^(08|57P)/.test(code)) return true; // connection exception, operator intervention (shutdown, terminated)
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(message);
}

/** A failure to reach or use the database, as one message saying what, where and what next. */
export class PostgresStateError extends UserError {
  override readonly cause: unknown;
  constructor(location: string, action: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | undefined)?.code;
    const hint = isConnectionError(cause)
      ? 'Check that the server is running and reachable (host, port, TLS settings) and run the command again.'
      : code === '25006'
        ? 'The database is read-only (a standby, or default_transaction_read_only set on the database, role or server): nothing more ' +
          'was written and the state as last recorded is intact. Point the state at the primary, or make the database writable again ' +
          '(ALTER DATABASE … SET default_transaction_read_only = off), then run the same command again: a build resumes from its last recorded step.'
        : code === '53100'
          ? 'The database server is out of disk space; nothing was written, the previous state is intact. Free some space and run the command again.'
          : code === '42501'
            ? 'The role lacks a privilege on the schema of the state: grant it, or name another schema.'
            : 'The previous state is intact; fix the cause and run the command again.';
    super('STATE_PG_FAILED', `could not ${action} the PostgreSQL state at ${location}: ${why}${typeof code === 'string' ? ` (${code})` : ''}. ${hint}`);
    this.cause = cause;
  }
}
