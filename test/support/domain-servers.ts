import { createSocket } from "node:dgram";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import dns2 from "dns2";
import { createCertificateAuthority } from "../../src/pki/certificate-authority.js";
import { issueCertificate } from "../../src/pki/issue-certificate.js";

/** What the loopback DNS server answers for one name (lowercase, no trailing dot). */
export interface DnsRecords {
  readonly a?: readonly string[];
  readonly aaaa?: readonly string[];
  /** Each record's character-strings (a string is a record of one). */
  readonly txt?: readonly (string | readonly string[])[];
}

export interface TestDns {
  /** `127.0.0.1:<port>`, for the verifier's `dnsServers`. */
  readonly address: string;
  /** Replaces the records of `name`; undefined removes the name (NXDOMAIN). */
  set(name: string, records: DnsRecords | undefined): void;
  close(): Promise<void>;
}

/**
 * A real DNS server (dns2, UDP) on loopback, answering from a zone the test edits: a name
 * that is not in it is NXDOMAIN, a type it lacks is an empty NOERROR answer.
 */
export async function startTestDns(): Promise<TestDns> {
  const { Packet } = dns2;
  const zone = new Map<string, DnsRecords>();
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    for (const question of request.questions) {
      const records = zone.get(question.name.toLowerCase());
      if (!records) response.header.rcode = Packet.RCODE.NXDOMAIN;
      const answer = (record: Partial<dns2.Packet.Resource>) =>
        response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, ...record }));
      if (question.type === Packet.TYPE.A) {
        for (const address of records?.a ?? []) answer({ address });
      }
      if (question.type === Packet.TYPE.AAAA) {
        for (const address of records?.aaaa ?? []) answer({ address });
      }
      if (question.type === Packet.TYPE.TXT) {
        for (const text of records?.txt ?? []) answer({ data: [text].flat() });
      }
    }
    void send(response);
  });
  await server.listen(0, "127.0.0.1");
  return {
    address: `127.0.0.1:${server.address().port}`,
    set(name, records) {
      if (records) zone.set(name, records);
      else zone.delete(name);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A UDP socket on loopback that takes DNS queries and never answers them. */
export async function startSilentDns(): Promise<{ address: string; close(): Promise<void> }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** How the HTTPS server answers the well-known URL of one host. */
export type WellKnownAnswer =
  /** 200 with `body`, after `delayMs`; without Content-Length (chunked) when `chunked`. */
  | { readonly body: string; readonly delayMs?: number; readonly chunked?: boolean }
  | { readonly status: number }
  /** 302 to `location`. */
  | { readonly redirect: string };

export interface WellKnownServer {
  readonly port: number;
  /** The CA the server's certificate chains to (the verifier's extra `ca`). */
  readonly caPem: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Sets the answer for `host`; hosts without one answer 404. */
  answer(host: string, answer: WellKnownAnswer): void;
  close(): Promise<void>;
}

/**
 * A real HTTPS server on loopback whose certificate, issued by the project's own PKI code
 * from a fresh CA, names `hosts`. Requests are routed by their Host header.
 */
export async function startWellKnownServer(hosts: readonly string[]): Promise<WellKnownServer> {
  const ca = await createCertificateAuthority({ commonName: "domain test CA", validityDays: 1 });
  const leaf = await issueCertificate({
    ca,
    commonName: hosts[0] ?? "localhost",
    usage: "server",
    dnsNames: hosts,
    validityDays: 1,
  });
  const answers = new Map<string, WellKnownAnswer>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    const answer = req.url === "/.well-known/gatehouse-verification" && answers.get(host);
    if (!answer) return void res.writeHead(404).end("not found");
    if ("status" in answer) return void res.writeHead(answer.status).end();
    if ("redirect" in answer) return void res.writeHead(302, { location: answer.redirect }).end();
    const timer = setTimeout(() => {
      timers.delete(timer);
      const length = Buffer.byteLength(answer.body);
      res.writeHead(200, {
        "content-type": "text/plain",
        ...(answer.chunked ? {} : { "content-length": length }),
      });
      // In 1 KiB pieces, so a client can stop reading early.
      for (let offset = 0; offset < length; offset += 1024) {
        res.write(answer.body.slice(offset, offset + 1024));
      }
      res.end();
    }, answer.delayMs ?? 0);
    timers.add(timer);
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: ca.certPem,
    get connections() {
      return connections;
    },
    answer(host, answer) {
      answers.set(host, answer);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
