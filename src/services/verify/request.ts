import { create, fromBinary } from "@bufbuild/protobuf";
import { type VerifyRequest, VerifyRequestSchema } from "../../../gen/gatehouse/v1/verify_pb.js";
import { fieldOf, WIRE, WireReader, wireTypeOf } from "../wire-reader.js";

const FIELD = VerifyRequestSchema.field;

/**
 * A VerifyRequest, decoded as `fromBinary` decodes it (the same message, the same errors),
 * at a fraction of its cost for the request every caller sends: the token, the audience, the
 * required scopes and the DPoP fields. Strings are checked UTF-8 (proto3); the last value of
 * a scalar wins and a repeated field collects every value (protobuf.dev "Encoding", "Last One
 * Wins"); a structural error throws. Anything else (the amount, a field this version does
 * not know, which `fromBinary` keeps for re-encoding, a wire type those fields do not have)
 * hands the whole request to `fromBinary`: the message is then exactly what it makes.
 */
export function decodeVerifyRequest(bytes: Uint8Array): VerifyRequest {
  const reader = new WireReader(bytes);
  const request = create(VerifyRequestSchema);
  while (reader.pos < reader.len) {
    const tag = reader.tag();
    // Each field read here is a string: another wire type is fromBinary's to judge.
    switch (wireTypeOf(tag) === WIRE.lengthDelimited ? fieldOf(tag) : 0) {
      case FIELD.token.number:
        request.token = reader.string(tag);
        break;
      case FIELD.audience.number:
        request.audience = reader.string(tag);
        break;
      case FIELD.requiredScopes.number:
        request.requiredScopes.push(reader.string(tag));
        break;
      case FIELD.dpopProof.number:
        request.dpopProof = reader.string(tag);
        break;
      case FIELD.httpMethod.number:
        request.httpMethod = reader.string(tag);
        break;
      case FIELD.httpUrl.number:
        request.httpUrl = reader.string(tag);
        break;
      default:
        return fromBinary(VerifyRequestSchema, bytes);
    }
  }
  return request;
}
