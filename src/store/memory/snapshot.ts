/** Writes the owning port's current state to its file; a no-op without a data directory. */
export type Persist = () => Promise<void>;

export const noPersistence: Persist = () => Promise.resolve();

/** Narrows loaded JSON before the snapshot parsers look at its fields. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
