import type * as grpc from "@grpc/grpc-js";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import type { ServiceBinding } from "../services/types.js";
import { createHealth, ServingStatus } from "./health.js";
import { addReflection } from "./reflection.js";

/**
 * gRPC health checking (grpc.health.v1) and server reflection (v1 and v1alpha) on the gRPC
 * port, so grpcurl, grpc_health_probe and Kubernetes probes work without proto files.
 */
export function createIntrospection(bindings: readonly ServiceBinding[]) {
  const health = createHealth(
    bindings.map((b) => b.service.typeName),
    ServingStatus.NOT_SERVING,
  );
  const files = [...new Set(bindings.map((b) => b.service.file)), file_grpc_health_v1_health];
  return {
    addToServer(server: grpc.Server) {
      health.addToServer(server);
      addReflection(server, files);
    },
    setServing(serving: boolean) {
      health.setAll(serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    },
  };
}
