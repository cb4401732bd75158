import type { Message } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { decodeCheckRequest } from "../services/authz/wire.js";

/**
 * Request types the dispatcher decodes with a reader of their own instead of `fromBinary`,
 * by type name: ones whose full decode costs far more than the few fields their service
 * reads. Envoy's CheckRequest carries every header of the HTTP request it is about; Check
 * reads three of them (src/services/authz/wire.ts).
 */
export const REQUEST_DECODERS: ReadonlyMap<string, (bytes: Uint8Array) => Message> = new Map([
  [CheckRequestSchema.typeName, decodeCheckRequest],
]);
