import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { fromConnectError } from "../errors.js";
import type { ClientTls } from "../tls.js";

export type ConnectProtocol = "connect-json" | "connect-binary" | "grpc";

/**
 * A Connect (JSON or binary) or gRPC transport over HTTP/2 with mutual TLS; `interceptors`
 * wrap every call (e.g. operatorSigningInterceptor from operator/signer.ts).
 */
export function createMtlsTransport(
  baseUrl: string,
  tls: ClientTls,
  protocol: ConnectProtocol = "connect-json",
  interceptors: Interceptor[] = [],
): Transport {
  const common = {
    baseUrl,
    httpVersion: "2" as const,
    nodeOptions: { ca: tls.ca, cert: tls.cert, key: tls.key },
    interceptors,
  };
  return protocol === "grpc"
    ? createGrpcTransport(common)
    : createConnectTransport({ ...common, useBinaryFormat: protocol === "connect-binary" });
}

/** A Connect client whose errors are rethrown as GatehouseClientError. */
export function createConnectClient<S extends DescService>(
  service: S,
  transport: Transport,
): Client<S> {
  const client = createClient(service, transport) as Record<string, unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(client)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        throw fromConnectError(error);
      }
    };
  }
  return wrapped as Client<S>;
}
