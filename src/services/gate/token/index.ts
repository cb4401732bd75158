import type { MessageInitShape } from "@bufbuild/protobuf";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { TokenRequest, TokenResponseSchema } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import type { CallContext } from "../../types.js";
import type { GateDeps } from "../deps.js";
import { issueAccessToken } from "./issue.js";
import { passGrant } from "./pass-grant.js";
import type { GrantOutcome } from "./types.js";

/** Token: one handler per grant type establishes the outcome; issue.ts signs it. */
export async function issueToken(
  deps: GateDeps,
  request: TokenRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof TokenResponseSchema>> {
  const grant = await runGrant(deps, request, call);
  return issueAccessToken(deps, grant, {});
}

function runGrant(deps: GateDeps, request: TokenRequest, call: CallContext): Promise<GrantOutcome> {
  switch (request.grant.case) {
    case "pass":
      return passGrant(deps, request.grant.value, call);
    default:
      throw new GatehouseError(Reason.INVALID_ARGUMENT, {
        field: "grant",
        description: "grant type not supported",
      });
  }
}
