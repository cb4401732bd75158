import type { Message } from "@bufbuild/protobuf";
import { Reason, ReasonSchema } from "../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry } from "../errors/index.js";
import type { CallObserver, DispatchMethod } from "../server/dispatch.js";
import { boundBy, enumLabels } from "./bound.js";
import { gateObservers } from "./gate-metrics.js";
import type { GatehouseMetrics } from "./metrics.js";

export type Transport = "grpc" | "connect";

/** gRPC's canonical code names, by number (Connect shares the numbering). */
export const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** A `Reason` as a label: its enum name (`TOKEN_EXPIRED`), OK for UNSPECIFIED (allowed). */
export const reasonLabel = enumLabels(ReasonSchema.values, (name) =>
  name === "UNSPECIFIED" ? "OK" : name,
);

/**
 * RED metrics for every RPC one transport dispatches (requests by status code, duration),
 * plus the gate's login metrics for its three methods: the dispatcher's one observer hook.
 */
export function observeCalls(
  metrics: GatehouseMetrics,
  transport: Transport,
): (method: DispatchMethod) => CallObserver {
  return (method) => {
    const duration = metrics.rpcDuration.labels(transport, method.fullName);
    const byCode = boundBy((code) =>
      metrics.tally("rpcRequests", {
        transport,
        method: method.fullName,
        code: CODE_NAMES[code] ?? "UNKNOWN",
      }),
    );
    const gate = gateObservers[method.fullName]?.(metrics);
    return (request: Message, reason: Reason, startedMs: number) => {
      const seconds = (performance.now() - startedMs) / 1000;
      duration.observe(seconds);
      byCode(reason === Reason.UNSPECIFIED ? 0 : catalogEntry(reason).code).inc();
      gate?.(request, reason, seconds);
    };
  };
}
