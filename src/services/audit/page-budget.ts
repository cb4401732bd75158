import { toBinary, toJson } from "@bufbuild/protobuf";
import { type AuditEntry, AuditEntrySchema } from "../../../gen/gatehouse/v1/audit_pb.js";

/**
 * Room kept in every ListAuditEventsResponse for what is not an entry (`next_after_sequence`,
 * the JSON object around the list) and for the transports' own framing, with slack to spare.
 */
const HEADROOM_BYTES = 1_024;

/**
 * How many bytes of entries one page may carry: safely under the largest message the
 * transports send (`limits.maxMessageBytes`), so a page of large entries is cut short
 * (and continued with `next_after_sequence`) instead of failing with RESOURCE_EXHAUSTED.
 */
export function pageBudget(maxMessageBytes: number): number {
  return maxMessageBytes - HEADROOM_BYTES;
}

/**
 * The bytes one entry adds to a response, in the larger of the encodings the transports
 * use: protobuf binary (gRPC, Connect proto: the field's tag, length and message) and
 * JSON (Connect JSON: the object and its comma). The service does not know which
 * transport will carry the answer, so it budgets for the larger.
 */
export function entrySize(entry: AuditEntry): number {
  const binary = toBinary(AuditEntrySchema, entry).length;
  const framed = 1 + varintLength(binary) + binary;
  const json = Buffer.byteLength(JSON.stringify(toJson(AuditEntrySchema, entry))) + 1;
  return Math.max(framed, json);
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) length += 1;
  return length;
}
