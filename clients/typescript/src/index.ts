/**
 * Gatehouse's TypeScript client: typed errors carrying the `Reason`, mTLS transports (Connect,
 * gRPC over connect-node, or grpc-js) and the generated service descriptors. The agent helper
 * is `@gatehouse/client/agent`, the verifier for Node services `@gatehouse/client/verifier`,
 * operators' request signing `@gatehouse/client/operator`.
 *
 * @packageDocumentation
 */
export { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
export { ChallengeKind, GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
export { GrantService } from "../../../gen/gatehouse/v1/grants_pb.js";
export { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
export { VerifyService } from "../../../gen/gatehouse/v1/verify_pb.js";
export {
  detailFromStatus,
  fromConnectError,
  fromGrpcError,
  GatehouseClientError,
  type GatehouseErrorHints,
} from "./errors.js";
export { type ClientTls, readClientTls } from "./tls.js";
export {
  type ConnectProtocol,
  createConnectClient,
  createMtlsTransport,
} from "./transport/connect.js";
export {
  createGrpcChannel,
  createGrpcClient,
  type GrpcClient,
  type GrpcClientOptions,
} from "./transport/grpc.js";
