/**
 * Redis faults that mean "not reachable now", as ioredis reports them: the client gave up
 * (timeout, retries, no offline queue), the connection failed, or the server said it
 * cannot serve yet (loading a dataset, a busy script, a cluster or failover in progress).
 * Everything else (WRONGTYPE, a script error, NOSCRIPT) is a bug and stays one.
 */
const GAVE_UP = [
  "Command timed out",
  "Connection is closed.",
  "Stream isn't writeable",
  "Cluster isn't ready",
  "Failed to refresh slots cache",
  "None of startup nodes is available",
  "did not answer PING",
];

const SOCKET_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Reply prefixes of a server that is up but cannot serve this command right now. */
const NOT_NOW = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOREPLICAS) /;

export function isRedisFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError" || error.name === "ClusterAllFailedError") {
    return true;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && SOCKET_CODES.has(code)) return true;
  return GAVE_UP.some((text) => error.message.includes(text)) || NOT_NOW.test(error.message);
}
