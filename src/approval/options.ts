import type { Audit } from "../audit/writer.js";
import type { Clock } from "../clock.js";
import type { Endpoint } from "../config/index.js";
import type { TransportLimits } from "../config/limits.js";
import type { Logger } from "../observability/logger.js";
import type { Store } from "../store/ports.js";

/** What the approval page needs; the composition root (src/app/compose.ts) builds it. */
export interface ApprovalServerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly audit: Audit;
  readonly logger: Logger;
  /**
   * The page's origin as browsers reach it, e.g. `https://approve.example.com` (behind a
   * proxy or on another port). Unset: `https://localhost:<bound port>`. The WebAuthn RP ID
   * is its hostname.
   */
  readonly origin?: string;
  /** The server certificate and key (browsers connect without a client certificate). */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer };
  readonly listen: Endpoint;
  /** Header, timeout and connection bounds (HTTP/1.1 only: the page offers no HTTP/2). */
  readonly transport: TransportLimits;
  readonly sessionTtlMs: number;
  /** How long a passkey ceremony may take; default 5 minutes. */
  readonly ceremonyTtlMs?: number;
  /** The cooldown after a denial: `base * 2^(denials - 1)`, at most `max`. */
  readonly denialBackoffBaseMs: number;
  readonly denialBackoffMaxMs: number;
}

export const DEFAULT_CEREMONY_TTL_MS = 5 * 60_000;
