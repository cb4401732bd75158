import type * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { ServiceBinding } from "../services/types.js";
import { addReflection } from "./reflection.js";

/**
 * gRPC health checking (grpc.health.v1) and server reflection (v1 and v1alpha) on the gRPC
 * port, so grpcurl, grpc_health_probe and Kubernetes probes work without proto files.
 */
export function createIntrospection(bindings: readonly ServiceBinding[]) {
  const health = new HealthImplementation({
    "": "NOT_SERVING",
    ...Object.fromEntries(bindings.map((b) => [b.service.typeName, "NOT_SERVING" as const])),
  });
  const files = [...new Set(bindings.map((b) => b.service.file))];
  const setServing = (serving: boolean) => {
    const status = serving ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    for (const binding of bindings) health.setStatus(binding.service.typeName, status);
  };
  return {
    addToServer(server: grpc.Server) {
      health.addToServer(server);
      addReflection(server, files);
    },
    setServing,
  };
}
