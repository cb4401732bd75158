import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { ServiceBinding } from "../services/types.js";

/**
 * gRPC health checking (grpc.health.v1) and server reflection (v1 and v1alpha) on the gRPC
 * port, so grpcurl, grpc_health_probe and Kubernetes probes work without proto files.
 */
export function createIntrospection(bindings: readonly ServiceBinding[]) {
  const health = new HealthImplementation({
    "": "NOT_SERVING",
    ...Object.fromEntries(bindings.map((b) => [b.service.typeName, "NOT_SERVING" as const])),
  });
  const reflection = new ReflectionService(
    loadFileDescriptorSetFromBuffer(descriptorSet(bindings.map((b) => b.service.file))),
  );
  const setServing = (serving: boolean) => {
    const status = serving ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    for (const binding of bindings) health.setStatus(binding.service.typeName, status);
  };
  return {
    addToServer(server: grpc.Server) {
      health.addToServer(server);
      reflection.addToServer(server);
    },
    setServing,
  };
}

/** Every file the services need, dependencies first, as a serialized FileDescriptorSet. */
function descriptorSet(roots: readonly DescFile[]): Buffer {
  const ordered: DescFile[] = [];
  const visit = (file: DescFile) => {
    if (ordered.includes(file)) return;
    for (const dependency of file.dependencies) visit(dependency);
    ordered.push(file);
  };
  for (const root of roots) visit(root);
  const set = create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) });
  return Buffer.from(toBinary(FileDescriptorSetSchema, set));
}
