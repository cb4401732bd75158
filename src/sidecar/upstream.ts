import { type DescMethod, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { LruCache } from "../cache/lru-cache.js";
import type { ClientTls } from "../client/credentials.js";
import { detailFromStatus } from "../client/errors.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors/index.js";
import { FORWARDED_HEADERS, forwardedMac } from "../identity/forwarded.js";

/**
 * Who an upstream call is for: the HTTP caller's client certificate; a caller without one
 * that claims a DID it will prove with the DID's key (Gatehouse's `claimant`: a DID-proof
 * challenge and its redemption only); or the sidecar itself. `address` is the IP address the
 * HTTP caller connected from (src/sidecar/client-address.ts): Gatehouse counts the call's
 * address limits under it, not the sidecar's. A DID claim must name it.
 */
export type OnBehalfOf =
  | { readonly certificatePem: string; readonly address?: string }
  | { readonly didClaim: string; readonly address: string }
  | "sidecar";

export interface UpstreamOptions {
  /** Gatehouse's gRPC address, `host:port`: also the authority the forwarded MAC binds. */
  readonly address: string;
  /** The sidecar's `proxy` client certificate, its key, and the CA of Gatehouse's certificate. */
  readonly tls: ClientTls;
  /** `proxy.hmac_secret`, shared with Gatehouse. */
  readonly hmacSecret: string;
  /** Deadline of each call, retries included. */
  readonly timeoutMs: number;
  readonly clock: Clock;
}

export interface Upstream {
  /** One unary RPC; a refusal is thrown as a GatehouseError carrying Gatehouse's reason. */
  call(method: DescMethod, request: Message, onBehalfOf: OnBehalfOf): Promise<Message>;
  close(): void | Promise<void>;
}

/**
 * Gatehouse over one long-lived HTTP/2 channel (mTLS once, not per request). Every call has
 * a deadline; a read-only RPC (NO_SIDE_EFFECTS) is retried once when Gatehouse was
 * unreachable, others never (a retry could spend a challenge twice). Unreachable is
 * REASON_UNAVAILABLE (HTTP 503): the sidecar never answers for Gatehouse (fail closed).
 */
export function createUpstream(options: UpstreamOptions): Upstream {
  const { address, tls, hmacSecret, timeoutMs, clock } = options;
  const channel = new grpc.Client(address, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), {
    // The authority Gatehouse sees, and the MAC covers, is exactly the configured address.
    "grpc.default_authority": address,
    "grpc.keepalive_time_ms": 30_000,
  });

  const forwardedHeaders = createForwardedHeaders({ address, hmacSecret, clock });
  const metadataFor = (path: string, onBehalfOf: OnBehalfOf): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(forwardedHeaders(path, onBehalfOf))) {
      metadata.set(name, value);
    }
    return metadata;
  };

  const once = (method: DescMethod, request: Message, onBehalfOf: OnBehalfOf, deadline: number) => {
    const path = `/${method.parent.typeName}/${method.name}`;
    return new Promise<Message>((resolve, reject) => {
      channel.makeUnaryRequest(
        path,
        (value: Message) => Buffer.from(toBinary(method.input, value)),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        request,
        metadataFor(path, onBehalfOf),
        { deadline },
        (error, response) => (error || !response ? reject(error) : resolve(response)),
      );
    });
  };

  return {
    async call(method, request, onBehalfOf) {
      const deadline = clock.now() + timeoutMs;
      const retries = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? 1 : 0;
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(method, request, onBehalfOf, deadline);
        } catch (error) {
          const unreachable = (error as grpc.ServiceError).code === grpc.status.UNAVAILABLE;
          if (unreachable && attempt < retries && clock.now() < deadline) continue;
          throw refusalOf(error as grpc.ServiceError);
        }
      }
    },
    close: () => channel.close(),
  };
}

/** The forwarded identity's headers of one call (see `createForwardedHeaders`). */
export type ForwardedHeaders = (
  path: string,
  onBehalfOf: OnBehalfOf,
) => Readonly<Record<string, string>>;

/** Callers whose headers are kept, and the (address, method) pairs per caller and second. */
const MEMO_CALLERS = 1024;
const MEMO_PER_CALLER = 64;

/**
 * The HMAC-authenticated forwarded identity of a call made on someone's behalf (none for the
 * sidecar's own calls): the MAC binds the kind, value, caller address, time, `authority` and
 * method path. The time has one-second resolution, so within a second the headers of one
 * caller, address and method are the same bytes: they are computed once (the certificate's
 * URL encoding once per caller, the MAC once per second) and shared, frozen. Memoizing a
 * deterministic function changes no header; the memo is bounded (MEMO_CALLERS callers, each
 * with at most MEMO_PER_CALLER entries of the current second).
 */
export function createForwardedHeaders(
  options: Pick<UpstreamOptions, "address" | "hmacSecret" | "clock">,
): ForwardedHeaders {
  interface CallerMemo {
    readonly kind: "cert" | "did";
    readonly value: string;
    at: string;
    readonly byCall: Map<string, Readonly<Record<string, string>>>;
  }
  // By the PEM (the same string object for every request on a connection: src/sidecar/peer.ts)
  // or the claimed DID.
  const callers = new LruCache<CallerMemo>(MEMO_CALLERS);
  const memoOf = (onBehalfOf: Exclude<OnBehalfOf, "sidecar">): CallerMemo => {
    const claim = "didClaim" in onBehalfOf;
    const key = claim ? `did:${onBehalfOf.didClaim}` : onBehalfOf.certificatePem;
    let memo = callers.get(key);
    if (memo === undefined) {
      memo = claim
        ? { kind: "did", value: onBehalfOf.didClaim, at: "", byCall: new Map() }
        : {
            kind: "cert",
            value: encodeURIComponent(onBehalfOf.certificatePem),
            at: "",
            byCall: new Map(),
          };
      callers.set(key, memo);
    }
    return memo;
  };
  return (path, onBehalfOf) => {
    if (onBehalfOf === "sidecar") return NONE;
    const memo = memoOf(onBehalfOf);
    const at = String(Math.floor(options.clock.now() / 1000));
    if (memo.at !== at || memo.byCall.size >= MEMO_PER_CALLER) {
      memo.at = at;
      memo.byCall.clear();
    }
    const { address } = onBehalfOf;
    // `=` marks an address (even an empty one, which Gatehouse refuses), `-` none (the v1 form).
    const callKey = address === undefined ? `-\n${path}` : `=${address}\n${path}`;
    let headers = memo.byCall.get(callKey);
    if (headers === undefined) {
      const { kind, value } = memo;
      // The caller's address, when known, is bound by the MAC (its v2 form, src/identity/forwarded.ts).
      const client = address === undefined ? {} : { address };
      const fields = { kind, value, ...client, at, authority: options.address, target: path };
      headers = Object.freeze({
        [FORWARDED_HEADERS[kind]]: value,
        ...(address === undefined ? {} : { [FORWARDED_HEADERS.address]: address }),
        [FORWARDED_HEADERS.at]: at,
        [FORWARDED_HEADERS.mac]: forwardedMac(options.hmacSecret, fields),
      });
      memo.byCall.set(callKey, headers);
    }
    return headers;
  };
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/** Gatehouse's typed refusal, or UNAVAILABLE when it did not answer (fail closed). */
function refusalOf(error: grpc.ServiceError): GatehouseError {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  const detail = raw instanceof Buffer ? detailFromStatus(raw) : undefined;
  if (detail !== undefined && detail.reason !== Reason.UNSPECIFIED) {
    return new GatehouseError(detail.reason, {
      ...(detail.field === "" ? {} : { field: detail.field }),
      ...(detail.description === "" ? {} : { description: detail.description }),
      retryAfterMs: detail.retryAfterMs,
      dpopNonce: detail.dpopNonce,
    });
  }
  return new GatehouseError(UNTYPED[error.code] ?? Reason.INTERNAL, { cause: error });
}

/**
 * Statuses that arrive without Gatehouse's detail (from grpc-js itself, e.g. a message over
 * the size limit, or no answer at all). Unreachable or too slow is UNAVAILABLE: 503.
 */
const UNTYPED: Partial<Record<grpc.status, Reason>> = {
  [grpc.status.UNAVAILABLE]: Reason.UNAVAILABLE,
  [grpc.status.DEADLINE_EXCEEDED]: Reason.UNAVAILABLE,
  [grpc.status.CANCELLED]: Reason.UNAVAILABLE,
  [grpc.status.RESOURCE_EXHAUSTED]: Reason.HTTP_BODY_TOO_LARGE,
  [grpc.status.INVALID_ARGUMENT]: Reason.INVALID_ARGUMENT,
  [grpc.status.UNAUTHENTICATED]: Reason.UNAUTHENTICATED,
  [grpc.status.PERMISSION_DENIED]: Reason.PERMISSION_DENIED,
};
