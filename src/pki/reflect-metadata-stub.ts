/**
 * `@peculiar/x509` resolves its internals through tsyringe, which refuses to
 * load unless a `Reflect.getMetadata` polyfill (reflect-metadata or similar)
 * is present. The library registers classes without constructor injection, so
 * tsyringe only ever looks metadata up and finds none: lookups that always
 * answer "none" satisfy it without another dependency. A real polyfill, if
 * one is loaded first, is left alone.
 */
type MetadataLookup = (key: unknown, target: object) => undefined;

const reflect = Reflect as typeof Reflect & {
  getMetadata?: MetadataLookup;
  getOwnMetadata?: MetadataLookup;
};

if (typeof reflect.getMetadata !== "function") {
  reflect.getMetadata = () => undefined;
  reflect.getOwnMetadata = () => undefined;
}
