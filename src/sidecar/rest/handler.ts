import type { DescService } from "@bufbuild/protobuf";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../errors/index.js";
import type { ClientAddressOf } from "../client-address.js";
import {
  type HttpRequest,
  type HttpResponse,
  header,
  mediaType,
  readBody,
  sendJson,
  sendMethodNotAllowed,
  sendUnsupportedMediaType,
} from "../http-io.js";
import { peerCertificatePem } from "../peer.js";
import type { Upstream } from "../upstream.js";
import { matchTemplate } from "./path-template.js";
import { type RestRoute, restRoutes } from "./routes.js";
import { requestMessage, responseJson } from "./transcode.js";

export interface RestDeps {
  readonly upstream: Upstream;
  readonly maxBodyBytes: number;
  /** Where each request came from: Gatehouse counts Challenge and Submit per address under it. */
  readonly clientAddressOf: ClientAddressOf;
}

/**
 * REST for every RPC with a `google.api.http` rule. The caller is the client certificate
 * TLS verified, forwarded to Gatehouse authenticated (src/identity/forwarded.ts); without
 * one the request is refused here, never sent as the sidecar (which would lend it the
 * sidecar's own rights). The caller's address goes with it (src/sidecar/client-address.ts), so
 * Gatehouse's per-address limits count each HTTP client on its own, not every REST caller
 * under the sidecar's address. A body is JSON (`application/json`, identity coding: 415
 * otherwise); a method no binding of the path has is 405 with `Allow`. Returns false when no
 * route has this path.
 */
export function createRestHandler(services: readonly DescService[], deps: RestDeps) {
  const routes = restRoutes(services);
  return async (req: HttpRequest, res: HttpResponse, url: URL): Promise<boolean> => {
    const found = findRoute(routes, req.method ?? "", url.pathname);
    if (found === undefined) return false;
    if (!Array.isArray(found)) {
      sendMethodNotAllowed(res, found.allowed);
      return true;
    }
    const [route, variables] = found;
    const certificatePem = peerCertificatePem(req);
    if (certificatePem === undefined) {
      throw new GatehouseError(Reason.UNAUTHENTICATED, {
        description: "a client certificate from Gatehouse's CA is required",
      });
    }
    const { address } = deps.clientAddressOf(req);
    const body = route.body === "" ? Buffer.alloc(0) : await readBody(req, deps.maxBodyBytes);
    const unsupported = body.length === 0 ? undefined : unsupportedContent(req);
    if (unsupported !== undefined) {
      sendUnsupportedMediaType(res, unsupported);
      return true;
    }
    const request = requestMessage(route, variables, url.searchParams, body);
    const response = await deps.upstream.call(route.method, request, { certificatePem, address });
    sendJson(res, 200, responseJson(route, response));
    return true;
  };
}

type Found = [RestRoute, Map<string, string>] | { allowed: string[] } | undefined;

/**
 * The first binding matching method and path; when only the path matched, the methods its
 * bindings take (for `Allow`).
 */
function findRoute(routes: readonly RestRoute[], method: string, path: string): Found {
  const allowed = new Set<string>();
  for (const route of routes) {
    const variables = matchTemplate(route.template, path);
    if (variables === undefined) continue;
    if (route.httpMethod === method) return [route, variables];
    allowed.add(route.httpMethod);
  }
  return allowed.size === 0 ? undefined : { allowed: [...allowed] };
}

/**
 * What is wrong with a body's labels (RFC 9110 §8.3, §8.4): it must say it is JSON — no
 * `Content-Type` is not JSON either — and carry no content coding but `identity`. Node's
 * parser has already removed the transfer coding.
 */
function unsupportedContent(req: HttpRequest): "media-type" | "content-coding" | undefined {
  const coding = req.headers["content-encoding"];
  if (coding !== undefined && coding.trim().toLowerCase() !== "identity") return "content-coding";
  if (mediaType(header(req.headers, "content-type")) !== "application/json") return "media-type";
  return undefined;
}
