import { constantTimeEqual } from "../crypto/constant-time.js";
import type { DnsLookup } from "./dns-lookup.js";
import { verificationFailed } from "./failure.js";
import { dnsRecordName, legacyDnsRecordName, TXT_VALUE_PREFIX } from "./locations.js";

/**
 * The DNS proof: a TXT record at `_gatehouse-challenge.<domain>` whose text is exactly
 * `gatehouse-verification=<token>`. Other records there (an old token, another service's
 * proof) are ignored; each is compared in constant time. The same record under
 * `_auth4agents.<domain>` (where Auth4Agent-style operators publish theirs) is accepted as an
 * alias, looked up alongside; a refusal names the Gatehouse record.
 */
export async function checkDnsTxt(
  dns: DnsLookup,
  domain: string,
  token: string,
  signal: AbortSignal,
): Promise<void> {
  const name = dnsRecordName(domain);
  const expected = `${TXT_VALUE_PREFIX}${token}`;
  const holds = (records: readonly string[]) =>
    records.filter((text) => constantTimeEqual(text, expected)).length > 0;
  const [records, alias] = await Promise.all([
    dns.txt(name, signal),
    dns.txt(legacyDnsRecordName(domain), signal).catch(() => []),
  ]);
  if (holds(alias)) return;
  if (records.length === 0) throw verificationFailed(`no TXT record at ${name}`);
  if (!holds(records)) {
    throw verificationFailed(`no TXT record at ${name} holds the verification token`);
  }
}
