import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthListRequestSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/**
 * gRPC health checking (grpc.health.v1: Check, Watch, List) for a fixed set of services, from
 * the protobuf-es descriptors generated from proto/grpc/health/v1/health.proto. It replaces
 * the grpc-health-check package, whose protobufjs loader parsed the same .proto at every
 * start-up (~300 KiB of code) and reads it from a path beside its own module, which a bundle
 * does not have (docs/performance.md, "Start-up and idle memory"). Same answers: Check is
 * NOT_FOUND for a service it does not know; Watch sends the status at once and every change
 * after it, and SERVICE_UNKNOWN (keeping the stream open) for an unknown service.
 */
export interface Health {
  /** Sets every service's status ("" is the whole server), telling every watcher. */
  setAll(status: ServingStatus): void;
  addToServer(server: grpc.Server): void;
}

interface ServiceHealth {
  status: ServingStatus;
  readonly watchers: Set<(status: ServingStatus) => void>;
}

export function createHealth(services: readonly string[], initial: ServingStatus): Health {
  // Fixed at start: an unknown service never becomes known, so it is never watched.
  const known = new Map<string, ServiceHealth>(
    ["", ...services].map((name) => [name, { status: initial, watchers: new Set() }]),
  );

  const check: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const request = decode(HealthCheckRequestSchema, call.request);
    if (request === undefined) return callback(malformed());
    const service = known.get(request.service);
    if (service === undefined) {
      return callback({ code: grpc.status.NOT_FOUND, details: "unknown service" });
    }
    callback(null, encodeStatus(service.status));
  };

  const watch: grpc.handleServerStreamingCall<Buffer, Buffer> = (call) => {
    const request = decode(HealthCheckRequestSchema, call.request);
    // grpc-js sends an 'error' emitted on a server stream as the call's status.
    if (request === undefined) return void call.emit("error", malformed());
    const service = known.get(request.service);
    if (service === undefined) {
      call.write(encodeStatus(ServingStatus.SERVICE_UNKNOWN));
      return;
    }
    const watcher = (status: ServingStatus) => call.write(encodeStatus(status));
    service.watchers.add(watcher);
    const forget = () => service.watchers.delete(watcher);
    call.once("cancelled", forget);
    call.once("close", forget);
    watcher(service.status);
  };

  const list: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    if (decode(HealthListRequestSchema, call.request) === undefined) return callback(malformed());
    const statuses = Object.fromEntries(
      [...known].map(([name, { status }]) => [name, { status }] as const),
    );
    const response = create(HealthListResponseSchema, { statuses });
    callback(null, Buffer.from(toBinary(HealthListResponseSchema, response)));
  };

  return {
    setAll(status) {
      for (const service of known.values()) {
        service.status = status;
        for (const watcher of service.watchers) watcher(status);
      }
    },
    addToServer(server) {
      server.addService(HEALTH_SERVICE, { check, watch, list });
    },
  };
}

/** The service's methods on raw bytes: decoding is ours, so bad bytes are INVALID_ARGUMENT. */
const HEALTH_SERVICE: grpc.ServiceDefinition = {
  check: rawMethod("Check", false),
  watch: rawMethod("Watch", true),
  list: rawMethod("List", false),
};

function rawMethod(name: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  const identity = (value: Buffer): Buffer => value;
  return {
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

function decode<Desc extends DescMessage>(
  schema: Desc,
  bytes: Buffer,
): MessageShape<Desc> | undefined {
  try {
    return fromBinary(schema, bytes);
  } catch {
    return undefined;
  }
}

/**
 * Each status's response, encoded once: Check is the bench's empty-RPC ceiling, so it does no
 * more work than the transport's.
 */
const ENCODED_STATUS = new Map(
  [
    ServingStatus.UNKNOWN,
    ServingStatus.SERVING,
    ServingStatus.NOT_SERVING,
    ServingStatus.SERVICE_UNKNOWN,
  ].map((status) => [
    status,
    Buffer.from(toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status }))),
  ]),
);

function encodeStatus(status: ServingStatus): Buffer {
  return ENCODED_STATUS.get(status) as Buffer;
}

function malformed(): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: "malformed health request" };
}
