import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
} from "../../../gen/grpc/health/v1/health_pb.js";
import { createHealth, type Health, ServingStatus } from "../../../src/server/health.js";

const SERVICE = "gatehouse.v1.VerifyService";
const raw = (value: Buffer): Buffer => value;
const request = (service: string) =>
  Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));
const statusOf = (bytes: Buffer) => fromBinary(HealthCheckResponseSchema, bytes).status;

/** The health service alone on a loopback port (plaintext: the transport is not under test). */
describe("grpc.health.v1 served from the protobuf-es descriptors", () => {
  let health: Health;
  let server: grpc.Server;
  let client: grpc.Client;

  beforeAll(async () => {
    health = createHealth([SERVICE], ServingStatus.NOT_SERVING);
    server = new grpc.Server();
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const unary = (method: string, body: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(`/grpc.health.v1.Health/${method}`, raw, raw, body, (e, r) =>
        e ? reject(e) : resolve(r ?? Buffer.alloc(0)),
      );
    });

  /** Opens a Watch; `next()` resolves with each status in turn. */
  const watch = (service: string) => {
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      raw,
      raw,
      request(service),
    );
    const received: ServingStatus[] = [];
    const waiting: ((status: ServingStatus) => void)[] = [];
    call.on("data", (bytes: Buffer) => {
      const status = statusOf(bytes);
      const resolve = waiting.shift();
      if (resolve) resolve(status);
      else received.push(status);
    });
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    call.on("error", () => {}); // the status event carries the outcome
    const next = () =>
      new Promise<ServingStatus>((resolve) => {
        const first = received.shift();
        if (first !== undefined) resolve(first);
        else waiting.push(resolve);
      });
    return { next, cancel: () => call.cancel(), ended };
  };

  it("Check answers the whole server and each service; NOT_FOUND for an unknown one", async () => {
    expect(statusOf(await unary("Check", request("")))).toBe(ServingStatus.NOT_SERVING);
    health.setAll(ServingStatus.SERVING);
    expect(statusOf(await unary("Check", request("")))).toBe(ServingStatus.SERVING);
    expect(statusOf(await unary("Check", request(SERVICE)))).toBe(ServingStatus.SERVING);
    await expect(unary("Check", request("no.such.Service"))).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it("Watch sends the status at once, then every change, until the client leaves", async () => {
    health.setAll(ServingStatus.SERVING);
    const server = watch("");
    const service = watch(SERVICE);
    expect(await server.next()).toBe(ServingStatus.SERVING);
    expect(await service.next()).toBe(ServingStatus.SERVING);
    health.setAll(ServingStatus.NOT_SERVING);
    expect(await server.next()).toBe(ServingStatus.NOT_SERVING);
    expect(await service.next()).toBe(ServingStatus.NOT_SERVING);
    health.setAll(ServingStatus.SERVING);
    expect(await server.next()).toBe(ServingStatus.SERVING);
    server.cancel();
    service.cancel();
    expect((await server.ended).code).toBe(grpc.status.CANCELLED);
  });

  it("Watch of an unknown service answers SERVICE_UNKNOWN and keeps the stream open", async () => {
    const unknown = watch("no.such.Service");
    expect(await unknown.next()).toBe(ServingStatus.SERVICE_UNKNOWN);
    unknown.cancel();
    // CANCELLED, not OK: the server had not ended the stream.
    expect((await unknown.ended).code).toBe(grpc.status.CANCELLED);
  });

  it("List names the whole server and every service with its status", async () => {
    health.setAll(ServingStatus.SERVING);
    const list = fromBinary(HealthListResponseSchema, await unary("List", Buffer.alloc(0)));
    expect(Object.keys(list.statuses).sort()).toEqual(["", SERVICE]);
    expect(list.statuses[SERVICE]?.status).toBe(ServingStatus.SERVING);
  });

  it("refuses malformed request bytes with INVALID_ARGUMENT, on every method", async () => {
    const junk = Buffer.from([0xff, 0xff, 0xff]);
    await expect(unary("Check", junk)).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(unary("List", junk)).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    const call = client.makeServerStreamRequest("/grpc.health.v1.Health/Watch", raw, raw, junk);
    call.on("error", () => {});
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
