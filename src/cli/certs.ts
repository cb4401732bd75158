import { isIP } from "node:net";
import { join } from "node:path";
import { Command, Option } from "commander";
import { DEFAULTS } from "../config/schema.js";
import { ensureDevPki, loadDevCertificateAuthority } from "../pki/dev-pki.js";
import { fingerprintSha256 } from "../pki/fingerprint.js";
import { issueCertificate } from "../pki/issue-certificate.js";
import { pathExists, pemPairPaths, writePemPair } from "../pki/pem-files.js";
import {
  CERTIFICATE_ROLES,
  type CertificateRole,
  type RoleIdentity,
  roleCertificateSpec,
} from "../pki/role-certificate.js";
import { agentCertName, DEFAULT_PKI_DIR } from "./manage/connection.js";

/** Exit code for bad arguments, kept apart from 1 (the command ran and failed). */
const USAGE_EXIT_CODE = 2;
const MAX_VALIDITY_DAYS = 3650;

/** A lowercase DNS name: dot-separated labels of 1–63 letters, digits and inner hyphens. */
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** One SPIFFE path segment; starting with a letter or digit rules out "." and "..". */
const SEGMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The DID methods Gatehouse agents use, with DID-syntax method-specific ids. */
const AGENT_DID = /^did:(agent|key):[A-Za-z0-9._%-]+(:[A-Za-z0-9._%-]+)*$/;

interface PkiFlags {
  readonly pkiDir: string;
  /** The former name of --pki-dir, still accepted (hidden from the help). */
  readonly dir?: string;
  readonly trustDomain: string;
}

interface IssueFlags extends PkiFlags {
  readonly role?: string;
  readonly name?: string;
  readonly domain?: string;
  readonly did?: string;
  readonly dns?: string[];
  readonly ip?: string[];
  readonly out?: string;
  readonly days: string;
}

/** The flags that name who an `issue` certificate is for, and the roles each applies to. */
const IDENTITY_FLAGS = ["name", "domain", "did", "dns", "ip"] as const;
const ROLE_FLAGS: Record<CertificateRole, readonly (typeof IDENTITY_FLAGS)[number][]> = {
  admin: ["name"],
  verifier: ["name"],
  proxy: ["name"],
  operator: ["domain"],
  agent: ["did"],
  server: ["dns", "ip"],
};

/** `gatehouse certs`: creates the dev PKI and issues certificates from its CA. */
export function certsCommand(): Command {
  return new Command("certs")
    .description("manage the development PKI: a local CA and the certificates it signs")
    .addCommand(initCommand())
    .addCommand(issueCommand());
}

function initCommand(): Command {
  return withPkiOptions(new Command("init"))
    .description("create the dev CA, server, admin and verifier certificates (keeps existing ones)")
    .action(async (flags: PkiFlags, command: Command) => {
      const problems = trustDomainProblems(flags.trustDomain);
      if (problems.length > 0) usageError(command, problems);
      const pki = await ensureDevPki(pkiDirOf(flags), { trustDomain: flags.trustDomain });
      if (pki.written.length === 0) {
        console.log(`dev PKI in ${pkiDirOf(flags)} is complete; nothing written`);
      }
      for (const path of pki.written) console.log(`wrote ${path}`);
    });
}

function issueCommand(): Command {
  const issue = new Command("issue")
    .description("issue a certificate signed by the dev CA")
    .option("--role <role>", `one of ${CERTIFICATE_ROLES.join(", ")}`)
    .option("--name <name>", "admin, verifier or proxy name")
    .option("--domain <domain>", "operator domain (lowercase DNS name)")
    .option("--did <did>", "agent DID (did:agent:… or did:key:…)")
    .option("--dns <names...>", "server DNS names")
    .option("--ip <addresses...>", "server IP addresses")
    .option("--out <prefix>", "write <prefix>.pem and <prefix>-key.pem (default: in the PKI dir)")
    .option("--days <n>", "validity in days", "365");
  return withPkiOptions(issue).action(runIssue);
}

/** Validates the flags, issues from the dev CA, writes the pair and prints its identity. */
async function runIssue(flags: IssueFlags, command: Command): Promise<void> {
  const request = parseIssueFlags(flags);
  if (Array.isArray(request)) usageError(command, request);
  const { certPath, keyPath } = pemPairPaths(request.outPrefix);
  const present = await Promise.all([certPath, keyPath].map(pathExists));
  const clashes = [certPath, keyPath]
    .filter((_, i) => present[i])
    .map((path) => `${path} already exists`);
  if (clashes.length > 0) usageError(command, clashes);

  const ca = await loadDevCertificateAuthority(pkiDirOf(flags));
  if (ca === undefined) {
    command.error(`error: no CA in ${pkiDirOf(flags)}; run "gatehouse certs init" first`);
  }
  const spec = roleCertificateSpec(flags.trustDomain, request.identity);
  const pair = await issueCertificate({ ca, ...spec, validityDays: request.days });
  await writePemPair(certPath, keyPath, pair);
  console.log(`wrote ${keyPath}`);
  console.log(`wrote ${certPath}`);
  for (const san of [...spec.uris, ...spec.dnsNames, ...spec.ipAddresses]) {
    console.log(`subject alt name: ${san}`);
  }
  console.log(`sha256 fingerprint: ${fingerprintSha256(pair.certPem)}`);
}

function withPkiOptions(command: Command): Command {
  return command
    .option("--pki-dir <dir>", "directory of the dev PKI", DEFAULT_PKI_DIR)
    .addOption(new Option("--dir <dir>").hideHelp())
    .option("--trust-domain <td>", "trust domain of the SPIFFE IDs", DEFAULTS.trustDomain);
}

/** --pki-dir, named as every other command names it, or its older spelling --dir. */
function pkiDirOf(flags: PkiFlags): string {
  return flags.dir ?? flags.pkiDir;
}

/** Reports every problem at once and exits with the usage code. */
function usageError(command: Command, problems: readonly string[]): never {
  return command.error(problems.map((problem) => `error: ${problem}`).join("\n"), {
    exitCode: USAGE_EXIT_CODE,
    code: "gatehouse.usage",
  });
}

interface IssueRequest {
  readonly identity: RoleIdentity;
  readonly days: number;
  readonly outPrefix: string;
}

/** The validated request, or every problem found in the flags. */
function parseIssueFlags(flags: IssueFlags): IssueRequest | string[] {
  const problems = trustDomainProblems(flags.trustDomain);
  const days = Number(flags.days);
  if (!/^\d+$/.test(flags.days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    problems.push(`--days must be a whole number from 1 to ${MAX_VALIDITY_DAYS}`);
  }
  const role = CERTIFICATE_ROLES.find((candidate) => candidate === flags.role);
  if (role === undefined) {
    problems.push(`--role must be one of ${CERTIFICATE_ROLES.join(", ")}`);
    return problems;
  }
  for (const flag of IDENTITY_FLAGS) {
    if (flags[flag] !== undefined && !ROLE_FLAGS[role].includes(flag)) {
      problems.push(`--${flag} does not apply to --role ${role}`);
    }
  }
  const identity = roleIdentity(role, flags, problems);
  if (identity === undefined || problems.length > 0) return problems;
  return {
    identity,
    days,
    outPrefix: flags.out ?? join(pkiDirOf(flags), defaultFileName(identity)),
  };
}

/** Builds the identity for `role` from its flags, adding a problem for each missing or bad one. */
function roleIdentity(
  role: CertificateRole,
  flags: IssueFlags,
  problems: string[],
): RoleIdentity | undefined {
  const requireFlag = (flag: string, value: string | undefined, pattern: RegExp, form: string) => {
    if (value === undefined) problems.push(`--role ${role} needs --${flag}`);
    else if (!pattern.test(value)) problems.push(`--${flag} must be ${form}, got "${value}"`);
    return value;
  };
  switch (role) {
    case "admin":
    case "verifier":
    case "proxy": {
      const name = requireFlag("name", flags.name, SEGMENT_NAME, "letters, digits, . _ -");
      return name === undefined ? undefined : { role, name };
    }
    case "operator": {
      const domain = requireFlag("domain", flags.domain, DNS_NAME, "a lowercase DNS name");
      return domain === undefined ? undefined : { role, domain };
    }
    case "agent": {
      const did = requireFlag("did", flags.did, AGENT_DID, "a did:agent: or did:key: DID");
      return did === undefined ? undefined : { role, did };
    }
    case "server": {
      const dnsNames = flags.dns ?? [];
      const ipAddresses = flags.ip ?? [];
      if (dnsNames.length + ipAddresses.length === 0) {
        problems.push("--role server needs --dns or --ip");
      }
      for (const name of dnsNames.filter((dns) => !DNS_NAME.test(dns))) {
        problems.push(`--dns must be a lowercase DNS name, got "${name}"`);
      }
      for (const address of ipAddresses.filter((ip) => isIP(ip) === 0)) {
        problems.push(`--ip must be an IPv4 or IPv6 address, got "${address}"`);
      }
      return { role, dnsNames, ipAddresses };
    }
  }
}

function trustDomainProblems(trustDomain: string): string[] {
  return DNS_NAME.test(trustDomain)
    ? []
    : [`--trust-domain must be a lowercase DNS name, got "${trustDomain}"`];
}

/** `<role>-<identity>`, e.g. `operator-example.com`, `agent-<DID id>`, `server-localhost`. */
function defaultFileName(identity: RoleIdentity): string {
  switch (identity.role) {
    case "admin":
    case "verifier":
    case "proxy":
      return `${identity.role}-${identity.name}`;
    case "operator":
      return `operator-${identity.domain}`;
    case "agent":
      return agentCertName(identity.did);
    case "server":
      return `server-${identity.dnsNames[0] ?? identity.ipAddresses[0]?.replaceAll(":", "_")}`;
  }
}
