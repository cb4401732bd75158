/**
 * Promises whose value is known the moment they are handed out: the answers the Verify
 * caches give again and again (cache.ts). A step that reads one goes on synchronously
 * instead of awaiting it: an await costs a microtask and a promise even on a settled
 * promise, and a cached Verify reads four of these. Only fulfilled values are recorded, so
 * a rejection always takes the awaiting path.
 */
const known = new WeakMap<Promise<unknown>, { readonly value: unknown }>();

/** A promise fulfilled with `value`, whose value `afterSettled` can read without waiting. */
export function resolvedWith<V>(value: V): Promise<V> {
  const promise = Promise.resolve(value);
  known.set(promise, { value });
  return promise;
}

function knownValue<V>(promise: Promise<V>): { readonly value: V } | undefined {
  return known.get(promise) as { readonly value: V } | undefined;
}

/** `next(value)` at once when the promise was made by `resolvedWith`, else once it settles. */
export function afterSettled<V, R>(
  promise: Promise<V>,
  next: (value: V) => R,
): R | Promise<Awaited<R>> {
  const settled = knownValue(promise);
  return settled ? next(settled.value) : (promise.then(next) as Promise<Awaited<R>>);
}

/** Like Promise.all, synchronous when every value is known (`resolvedWith`). */
export function allKnown<T extends readonly unknown[]>(
  promises: {
    readonly [K in keyof T]: Promise<T[K]>;
  },
): T | Promise<T> {
  const values: unknown[] = [];
  for (const promise of promises) {
    const settled = knownValue(promise);
    if (!settled) return Promise.all(promises) as Promise<unknown> as Promise<T>;
    values.push(settled.value);
  }
  return values as unknown as T;
}
