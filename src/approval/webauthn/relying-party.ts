/**
 * The WebAuthn Relying Party this Gatehouse is (WebAuthn L3 §5.4.2, `rp`): the approval page's
 * exact origin, and its hostname as the RP ID, so passkeys are scoped to that host alone.
 */
export interface RelyingParty {
  /** Shown by authenticators when a passkey is created. */
  readonly name: string;
  /** e.g. `https://approve.example.com`; clientDataJSON must name exactly this. */
  readonly origin: string;
  /** The origin's hostname: the RP ID (WebAuthn L3 §5.4.2, `rp.id`). */
  readonly id: string;
}

export function relyingParty(origin: string): RelyingParty {
  return { name: "Gatehouse", origin, id: new URL(origin).hostname };
}
