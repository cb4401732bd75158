import type { MessageInitShape } from "@bufbuild/protobuf";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { TokenRequest, TokenResponseSchema } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { ed25519ThumbprintOfHex } from "../../../crypto/jose/thumbprint.js";
import { checkTokenRequestProof, requireRegisteredKey } from "../../../dpop/index.js";
import { GatehouseError } from "../../../errors/index.js";
import type { CallContext } from "../../types.js";
import type { GateDeps } from "../deps.js";
import { assertionFlow } from "./flows/assertion.js";
import { didProofFlow } from "./flows/did-proof.js";
import { exchangeFlow } from "./flows/exchange.js";
import { passFlow } from "./flows/pass.js";
import type { FlowOutcome } from "./flows/types.js";
import { type Binding, issueAccessToken } from "./issue.js";

/**
 * Token: one flow per OAuth grant type (flows/: the pass from Submit, the RFC 7523
 * assertion, the RFC 8693 exchange) establishes the outcome; issue.ts signs it.
 */
export async function issueToken(
  deps: GateDeps,
  request: TokenRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof TokenResponseSchema>> {
  // RFC 9449 §5: a proof binds the token to the agent's key; checked before the flow runs.
  const { dpop } = deps.verify;
  const jkt = request.dpopProof
    ? await checkTokenRequestProof(dpop, deps.settings.publicUrl, request.dpopProof)
    : undefined;
  const outcome = await runFlow(deps, request, call, jkt);
  if (jkt !== undefined) requireRegisteredKey(jkt, outcome.presenter.publicKeyHex);
  const response = await issueAccessToken(deps, outcome, binding(outcome, jkt), call.caller);
  const dpopNonce = dpop.nonce(); // RFC 9449 §8: the nonce for the agent's next proof
  return dpopNonce === undefined ? response : { ...response, dpopNonce };
}

/**
 * The key the new token is bound to (RFC 9449 §6). A delegated token: its delegate's
 * registered key, whatever the request's proof (the delegator presents the request; only the
 * delegate may use the token). Otherwise the key the request's proof showed, if any. A token
 * with actors is never a bearer token: anyone who saw it could act as its actor.
 */
function binding(outcome: FlowOutcome, jkt: string | undefined): Binding {
  if (outcome.delegate !== undefined) {
    return { jkt: ed25519ThumbprintOfHex(outcome.delegate.publicKeyHex) };
  }
  if (jkt !== undefined) return { jkt };
  if (outcome.act !== undefined) throw new GatehouseError(Reason.TOKEN_BOUND_TO_KEY);
  return {};
}

/** The flow the request's grant (the proto oneof) names. */
function runFlow(
  deps: GateDeps,
  request: TokenRequest,
  call: CallContext,
  jkt: string | undefined,
): Promise<FlowOutcome> {
  // A caller without a certificate is authenticated by its DID proof and nothing else.
  if (call.caller.role === "claimant" && request.grant.case !== "didProof") {
    throw new GatehouseError(Reason.PERMISSION_DENIED, {
      description: "a caller without a client certificate may redeem only a DID proof",
    });
  }
  switch (request.grant.case) {
    case "passToken":
      return passFlow(deps, request.grant.value, call);
    case "assertion":
      return assertionFlow(deps, request.grant.value, call);
    case "exchange":
      return exchangeFlow(deps, request.grant.value, call, jkt);
    case "didProof":
      return didProofFlow(deps, request.grant.value, call);
    default:
      throw new GatehouseError(Reason.INVALID_ARGUMENT, {
        field: "grant",
        description: "grant type not supported",
      });
  }
}
