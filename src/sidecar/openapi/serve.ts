import document from "../../../docs/openapi.json" with { type: "json" };
import type { HttpRequest, HttpResponse } from "../http-io.js";
import { cacheableJson, sendCacheableText } from "../public-documents.js";

/** The document changes only with a new release: caches may keep it an hour. */
const MAX_AGE_SECONDS = 3600;

/**
 * `/openapi.json`: the committed docs/openapi.json (generated from the proto by write.ts and
 * checked against it in the suite), built into the program, with an ETag and 304s.
 */
export function createOpenApiEndpoint() {
  const cacheable = cacheableJson(document);
  return (req: HttpRequest, res: HttpResponse): void =>
    sendCacheableText(req, res, cacheable, MAX_AGE_SECONDS);
}
