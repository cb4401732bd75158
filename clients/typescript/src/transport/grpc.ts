import {
  create,
  type DescMethod,
  fromBinary,
  type Message,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { fromGrpcError } from "../errors.js";
import type { ClientTls } from "../tls.js";

/** A typed unary client over grpc-js: one async method per RPC. */
export type GrpcClient<S extends GenServiceMethods> = {
  [K in keyof S]: (
    request: MessageInitShape<S[K]["input"]>,
    options?: { deadlineMs?: number },
  ) => Promise<MessageShape<S[K]["output"]>>;
} & { close(): void };

export interface GrpcClientOptions {
  /** `host:port`. */
  readonly address: string;
  readonly tls: ClientTls;
  /** Share one channel between clients of several services. */
  readonly channel?: grpc.Client;
  /** Metadata computed per call from its request (e.g. an operator signature, operator/signer.ts). */
  readonly headers?: (method: DescMethod, request: Message) => Readonly<Record<string, string>>;
}

/** Opens a grpc-js channel with mutual TLS. */
export function createGrpcChannel(address: string, tls: ClientTls): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert));
}

export function createGrpcClient<S extends GenServiceMethods>(
  service: GenService<S>,
  options: GrpcClientOptions,
): GrpcClient<S> {
  const channel = options.channel ?? createGrpcChannel(options.address, options.tls);
  const client: Record<string, unknown> = {
    close: () => {
      if (!options.channel) channel.close();
    },
  };
  for (const method of service.methods) {
    client[method.localName] = (request: object, callOptions?: { deadlineMs?: number }) =>
      new Promise((resolve, reject) => {
        const message = create(method.input, request as never);
        const metadata = new grpc.Metadata();
        for (const [name, value] of Object.entries(options.headers?.(method, message) ?? {})) {
          metadata.set(name, value);
        }
        channel.makeUnaryRequest(
          `/${service.typeName}/${method.name}`,
          (value: typeof message) => Buffer.from(toBinary(method.input, value)),
          (bytes: Buffer) => fromBinary(method.output, bytes),
          message,
          metadata,
          { deadline: Date.now() + (callOptions?.deadlineMs ?? 10_000) },
          (error, response) => (error ? reject(fromGrpcError(error)) : resolve(response)),
        );
      });
  }
  return client as GrpcClient<S>;
}
