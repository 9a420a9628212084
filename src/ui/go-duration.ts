/**
 * Go's `time.Duration.String()` for a duration in milliseconds, as Packer prints durations it was
 * given ("Pausing 1m30s before the next provisioner..."): "0s", "500ms", "1s", "1m30s", "2h0m0s".
 */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) {
    if (ms >= 1) return `${trim(ms)}ms`;
    if (ms >= 0.001) return `${trim(ms * 1000)}µs`;
    return `${Math.round(ms * 1e6)}ns`;
  }
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds - h * 3600) / 60);
  const s = totalSeconds - h * 3600 - m * 60;
  const sec = `${trim(s)}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
