/**
 * Where a server listens: what `runServer` announces, and what a `--workers` worker tells its
 * primary (src/app/workers.ts). Every worker listens on the same ports.
 */
export interface Listening {
  readonly grpcPort: number;
  readonly connectPort: number;
  readonly approvalOrigin: string | undefined;
}

/**
 * Only these fields, from a running Gatehouse (whose store and audit writer must never be
 * serialized onto the IPC channel) or from a worker's message as it arrived.
 */
export function serverListening(from: unknown): Listening {
  const fields = (from ?? {}) as Partial<Record<keyof Listening, unknown>>;
  return {
    grpcPort: Number(fields.grpcPort),
    connectPort: Number(fields.connectPort),
    approvalOrigin: typeof fields.approvalOrigin === "string" ? fields.approvalOrigin : undefined,
  };
}
