/**
 * Host key checking against an OpenSSH known_hosts file, for `ssh_host_key_policy = "strict"` (an
 * extension: Packer itself never checks host keys).
 *
 * Supported entry forms: plain names and addresses, `[host]:port`, hashed names (`|1|salt|hash`,
 * HMAC-SHA1), `*`/`?` wildcards and `!` negations, and the `@revoked` marker (a revoked key is
 * refused). `@cert-authority` lines are ignored (certificates are not supported).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface Entry {
  marker?: string;
  patterns: string[];
  key: Buffer;
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    if (fields.length < 3) continue;
    entries.push({ marker, patterns: fields[0]!.split(','), key: Buffer.from(fields[2]!, 'base64') });
  }
  return entries;
}

function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || salt === undefined || hash === undefined) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** True when the comma-separated patterns of an entry select `name` (negations win). */
function selects(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (p.startsWith('|') ? hashedMatch(p, name) : wildcard(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Returns a check for the host key `host:port` presents: undefined when the key is known, else the
 * reason it is refused (unknown host, changed key, revoked key), with what to do next.
 */
export function knownHostsCheck(file: string, host: string, port: number): (key: Buffer) => string | undefined {
  const name = port === 22 ? host : `[${host}]:${port}`;
  return (key) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return `cannot read ssh_known_hosts_file ${file}: ${(err as Error).message}`;
    }
    const entries = parse(text).filter((e) => e.marker !== '@cert-authority' && selects(e.patterns, name));
    if (entries.some((e) => e.marker === '@revoked' && e.key.equals(key))) {
      return `the host key of ${name} is marked @revoked in ${file}`;
    }
    const known = entries.filter((e) => e.marker === undefined);
    if (known.some((e) => e.key.equals(key))) return undefined;
    if (known.length > 0) {
      return `the host key of ${name} does not match the one in ${file}: someone may be intercepting the connection, or the host was reinstalled (then remove its old entry with: ssh-keygen -R '${name}' -f ${file})`;
    }
    return `${name} is not a known host in ${file}; add its key with: ssh-keyscan -p ${port} ${host} >> ${file}`;
  };
}
