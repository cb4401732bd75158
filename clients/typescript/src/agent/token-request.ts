import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TokenRequestSchema, TokenResponse } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { GatehouseClientError, Reason } from "../errors.js";
import { dpopProof } from "./dpop.js";
import type { GateClient } from "./gate.js";
import type { AgentKey } from "./key.js";

/** The grant a Token request exchanges: a pass, an assertion or a token (RFC 8693). */
export type TokenGrant = NonNullable<MessageInitShape<typeof TokenRequestSchema>["grant"]>;

/** Bind the token to the agent's key (RFC 9449 §5): proofs go to this token endpoint URL. */
export interface DpopBinding {
  readonly key: AgentKey;
  /** The token endpoint (`token_endpoint` of the issuer metadata: `<public URL>/v1/tokens`). */
  readonly tokenEndpoint: string;
}

/**
 * One Token call. With `dpop`, it carries a proof (`htm` POST, `htu` the token endpoint, no
 * `ath`), and when Gatehouse asks for a server nonce (DPOP_NONCE_REQUIRED, RFC 9449 §8) it is
 * sent once more with that nonce: the proof is checked before the grant, so the pass or
 * assertion is not spent by the first attempt.
 */
export async function requestToken(
  gate: Pick<GateClient, "token">,
  grant: TokenGrant,
  dpop?: DpopBinding,
): Promise<TokenResponse> {
  const send = (nonce?: string) =>
    gate.token({
      grant,
      ...(dpop && {
        dpopProof: dpopProof(dpop.key, {
          htm: "POST",
          htu: dpop.tokenEndpoint,
          ...(nonce !== undefined && { nonce }),
        }),
      }),
    });
  try {
    return await send();
  } catch (error) {
    const nonce = error instanceof GatehouseClientError ? error.dpopNonce : undefined;
    if (!dpop || nonce === undefined || !isNonceRequired(error)) throw error;
    return send(nonce);
  }
}

const isNonceRequired = (error: unknown) =>
  error instanceof GatehouseClientError && error.reason === Reason.DPOP_NONCE_REQUIRED;
