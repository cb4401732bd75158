/**
 * Metric children bound once per label value and found again by a small number (a status
 * code, an enum value): a call pays an array read, never `labels()`'s hashing of label
 * strings. A child is made on first use, so a series appears only once it has happened.
 */
export function boundBy<T>(make: (key: number) => T): (key: number) => T {
  const made: T[] = [];
  return (key) => {
    let child = made[key];
    if (child === undefined) {
      child = make(key);
      made[key] = child;
    }
    return child;
  };
}

/** Label values by number from an enum's descriptor: `CHALLENGE_KIND_ITERATED_HASH` → `iterated_hash`. */
export function enumLabels(
  values: readonly { readonly number: number; readonly localName: string }[],
  format: (localName: string) => string,
): (value: number) => string {
  const names = new Map(values.map((value) => [value.number, format(value.localName)]));
  return (value) => names.get(value) ?? "unknown";
}
