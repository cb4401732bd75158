import { createHash, createHmac, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { LruCache } from "../cache/lru-cache.js";
import type { ProxyConfig } from "../config/index.js";
import { constantTimeEqual } from "../crypto/constant-time.js";
import { GatehouseError } from "../errors/index.js";
import { createAddressMatcher } from "./address-list.js";
import type { Caller } from "./caller.js";
import { type CertificateTrust, createClientCertificateCheck } from "./client-certificate.js";

/** gRPC metadata keys / HTTP header names a trusted proxy sets (lowercase). */
export const FORWARDED_HEADERS = {
  cert: "x-gatehouse-client-cert",
  fingerprint: "x-gatehouse-client-fingerprint",
  did: "x-gatehouse-client-did",
  address: "x-gatehouse-client-address",
  at: "x-gatehouse-forwarded-at",
  mac: "x-gatehouse-forwarded-mac",
} as const;

/** First line of the canonical string; a new format gets a new label, never a reinterpretation. */
export const FORWARDED_VERSION = "gatehouse-forwarded-v1";

/** The format that also binds the client's address (`x-gatehouse-client-address`). */
export const FORWARDED_VERSION_WITH_ADDRESS = "gatehouse-forwarded-v2";

/** Which identity header a forwarded value came in. */
export type ForwardedKind = "cert" | "fingerprint" | "did";

/** What the proxy vouches for, and where the request is going. */
export interface ForwardedFields {
  /** Which header carries `value`: the kind is MACed, so a value cannot change its meaning. */
  readonly kind: ForwardedKind;
  /** The header value exactly as sent: URL-encoded PEM, 64 lowercase hex digits, or a DID. */
  readonly value: string;
  /**
   * `x-gatehouse-client-address` exactly as sent: the IP address the proxy's own client
   * connected from. Absent in the v1 format, which binds none.
   */
  readonly address?: string;
  /** `x-gatehouse-forwarded-at` exactly as sent: decimal Unix seconds. */
  readonly at: string;
  /** `:authority` (HTTP/1.1: `Host`) exactly as Gatehouse received it. */
  readonly authority: string;
  /** The RPC path, `/gatehouse.v1.GateService/Challenge`. */
  readonly target: string;
}

/**
 * The string the proxy MACs: its fields joined by LF, no trailing LF.
 *
 *   gatehouse-forwarded-v1 LF kind LF value LF at LF authority LF target
 *   gatehouse-forwarded-v2 LF kind LF value LF address LF at LF authority LF target
 *
 * No field can hold an LF (HTTP field values and RPC paths cannot), so one string has exactly
 * one reading, and the version label keeps the two formats apart: an address cannot be dropped
 * or added under a MAC computed for the other. The authority and target bind a MAC to one
 * server port and one RPC: it cannot be replayed on another method, nor across the gRPC and
 * Connect ports.
 */
export function canonicalString(fields: ForwardedFields): string {
  const { kind, value, address, at, authority, target } = fields;
  return address === undefined
    ? [FORWARDED_VERSION, kind, value, at, authority, target].join("\n")
    : [FORWARDED_VERSION_WITH_ADDRESS, kind, value, address, at, authority, target].join("\n");
}

/** `x-gatehouse-forwarded-mac`: unpadded base64url of HMAC-SHA256(secret, canonical string). */
export function forwardedMac(secret: string, fields: ForwardedFields): string {
  return createHmac("sha256", secret).update(canonicalString(fields)).digest("base64url");
}

/** Compares in constant time: the MAC of a guess must not leak how much of it was right. */
export function forwardedMacMatches(secret: string, fields: ForwardedFields, mac: string): boolean {
  return constantTimeEqual(forwardedMac(secret, fields), mac);
}

/** What a transport knows about one call, read lazily: a disabled proxy reads no header. */
export interface CallSources {
  /** The identity of the TLS peer's own certificate. */
  readonly peerCaller: Caller;
  /** The peer's IP address. */
  readonly peerAddress: string;
  readonly authority: string;
  readonly target: string;
  /** Every value a header (metadata key) carries in this request. */
  header(name: string): readonly string[];
}

/** The one place a call's caller is decided, for both transports. */
export type CallerResolver = (call: CallSources) => Caller;

/** The CA bundle is the one the TLS listener verifies client certificates with. */
export type ResolverContext = CertificateTrust;

/**
 * The caller is the TLS peer, unless the peer is a trusted proxy (a trusted address AND a
 * certificate whose only URI SAN is `spiffe://<td>/proxy/<name>`) that forwards an identity.
 * From any other peer the forwarded headers are ignored, never an error: anyone can send them.
 * A forward that names the client's address (the v2 format) yields a caller carrying it.
 */
export function createCallerResolver(proxy: ProxyConfig, context: ResolverContext): CallerResolver {
  if (!proxy.enabled) return (call) => call.peerCaller;
  const trusted = createAddressMatcher(proxy.trustedPeers);
  // The trust domain is a validated DNS name: the dot is its only regex metacharacter.
  const proxyUri = new RegExp(
    `^spiffe://${context.trustDomain.replaceAll(".", "\\.")}/proxy/[^/]+$`,
  );
  const certificates = createClientCertificateCheck(context);

  const isTrustedProxy = ({ peerAddress, peerCaller }: CallSources): boolean => {
    if (!trusted(peerAddress)) return false;
    const [uri, ...others] = peerCaller.uris;
    return uri !== undefined && others.length === 0 && proxyUri.test(uri);
  };

  // The bar mTLS sets, by the same check: a forwarded certificate names a caller only when a
  // certificate presented directly would. Parsed certificates are kept by their forwarded
  // value (bounded; only values whose MAC verified reach here), so the check's cached part
  // (the CA's signature, createClientCertificateCheck) is not paid again on every call.
  const parsed = new LruCache<X509Certificate>(PARSED_CACHE_ENTRIES);
  const certificateCaller = (value: string): Caller => {
    let certificate = parsed.get(value);
    if (certificate === undefined) {
      certificate = forwardedCertificate(value);
      parsed.set(value, certificate);
    }
    const verdict = certificates(certificate);
    if ("problem" in verdict) throw refused(verdict.problem);
    return verdict.caller;
  };

  return (call) => {
    if (!isTrustedProxy(call)) return call.peerCaller;
    // A proxy forwarding nothing stands for itself; its certificate names no role.
    if (HEADER_NAMES.every((name) => call.header(name).length === 0)) return call.peerCaller;
    const fields = forwardedFields(call);
    const mac = single(call.header(FORWARDED_HEADERS.mac));
    // The MAC first: nothing unauthenticated is parsed, not even the timestamp.
    if (mac === undefined || !forwardedMacMatches(proxy.hmacSecret, fields, mac)) {
      throw refused("missing or wrong MAC");
    }
    const now = context.clock.now();
    const fresh =
      /^\d{1,11}$/.test(fields.at) &&
      Math.abs(now - Number(fields.at) * 1000) <= proxy.maxAgeSeconds * 1000;
    if (!fresh) throw refused("timestamp outside the accepted window");
    const { address } = fields;
    if (address !== undefined && !isIP(address)) throw refused("malformed client address");
    const caller = callerOf(fields);
    return address === undefined ? caller : Object.freeze({ ...caller, address });
  };

  function callerOf({ kind, value, address }: ForwardedFields): Caller {
    switch (kind) {
      case "cert":
        return certificateCaller(value);
      case "fingerprint":
        return fingerprintCaller(value);
      case "did":
        // A claimant's limits count per (DID, address) (src/services/gate/abuse): a claim
        // without the client's address would share one bucket with every stranger's.
        if (address === undefined) throw refused("a DID claim must carry the client address");
        return didClaimCaller(value);
    }
  }
}

/**
 * A fingerprint alone carries no SAN, so nothing names a role or a DID (the registry does not
 * know certificate fingerprints): the policy table refuses this caller every RPC.
 */
function fingerprintCaller(fingerprint: string): Caller {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw refused("malformed fingerprint");
  return Object.freeze({ fingerprint, uris: [] });
}

/**
 * A caller without a certificate that claims a DID (an Auth4Agent-style client of the
 * sidecar). The proxy vouches only for the claim having come through it, not for the DID:
 * the `claimant` role may ask for a CHALLENGE_KIND_DID_PROOF challenge and redeem it with a
 * signature by the DID's registered key, nothing else (src/server/policy.ts, the gate
 * service). Its fingerprint is domain-separated from every certificate's, so a claim never
 * shares a challenge, a pass or a rate-limit bucket with a certificate.
 */
function didClaimCaller(did: string): Caller {
  if (!DID_CLAIM.test(did)) throw refused("malformed DID");
  const fingerprint = createHash("sha256").update(`gatehouse-did-claim\0${did}`).digest("hex");
  return Object.freeze({ fingerprint, uris: [], role: "claimant", did });
}

/** The DIDs Gatehouse registers (the ChallengeRequest.did rule). */
const DID_CLAIM = /^did:(agent:[a-z0-9.-]{1,253}:[0-9a-f]{32}|key:z[1-9A-HJ-NP-Za-km-z]{40,60})$/;

const HEADER_NAMES = Object.values(FORWARDED_HEADERS);

const PARSED_CACHE_ENTRIES = 4096;

/**
 * Exactly one of the identity headers, one timestamp and at most one address; anything else
 * is ambiguous.
 */
function forwardedFields(call: CallSources): ForwardedFields {
  const cert = call.header(FORWARDED_HEADERS.cert);
  const fingerprint = call.header(FORWARDED_HEADERS.fingerprint);
  const did = call.header(FORWARDED_HEADERS.did);
  const addresses = call.header(FORWARDED_HEADERS.address);
  const value = single([...cert, ...fingerprint, ...did]);
  const at = single(call.header(FORWARDED_HEADERS.at));
  const address = single(addresses);
  if (value === undefined || at === undefined || addresses.length > 1) {
    throw refused("missing or repeated header");
  }
  const kind = cert.length > 0 ? "cert" : fingerprint.length > 0 ? "fingerprint" : "did";
  const { authority, target } = call;
  return { kind, value, ...(address === undefined ? {} : { address }), at, authority, target };
}

function forwardedCertificate(value: string): X509Certificate {
  try {
    const pem = decodeURIComponent(value);
    if (pem.match(/-----BEGIN CERTIFICATE-----/g)?.length !== 1) throw new Error("not one PEM");
    return new X509Certificate(pem);
  } catch {
    throw refused("certificate is not one URL-encoded PEM certificate");
  }
}

function single(values: readonly string[]): string | undefined {
  return values.length === 1 ? values[0] : undefined;
}

function refused(what: string): GatehouseError {
  return new GatehouseError(Reason.FORWARDED_IDENTITY_INVALID, {
    description: `forwarded identity invalid: ${what}`,
  });
}
