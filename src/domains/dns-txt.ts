import { constantTimeEqual } from "../crypto/constant-time.js";
import type { DnsLookup } from "./dns-lookup.js";
import { verificationFailed } from "./failure.js";
import { dnsRecordName, TXT_VALUE_PREFIX } from "./locations.js";

/**
 * The DNS proof: a TXT record at `_gatehouse-challenge.<domain>` whose text is exactly
 * `gatehouse-verification=<token>`. Other records there (an old token, another service's
 * proof) are ignored; each is compared in constant time.
 */
export async function checkDnsTxt(
  dns: DnsLookup,
  domain: string,
  token: string,
  signal: AbortSignal,
): Promise<void> {
  const name = dnsRecordName(domain);
  const records = await dns.txt(name, signal);
  if (records.length === 0) throw verificationFailed(`no TXT record at ${name}`);
  const expected = `${TXT_VALUE_PREFIX}${token}`;
  const matching = records.filter((text) => constantTimeEqual(text, expected));
  if (matching.length === 0) {
    throw verificationFailed(`no TXT record at ${name} holds the verification token`);
  }
}
