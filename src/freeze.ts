/**
 * Freezes `value` and everything it holds, so a shared value (the configuration, an answer
 * handed out again and again) cannot be changed by whoever receives it. Typed arrays are
 * left as they are: JavaScript cannot freeze their elements.
 */
export function deepFreeze<T extends object>(value: T): T {
  if (ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value)) {
    if (typeof child === "object" && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
