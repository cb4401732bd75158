import { describe, expect, it } from "vitest";
import { serverListening } from "../../../src/app/listening.js";

describe("serverListening (what a server worker announces to its primary)", () => {
  it("keeps only the ports and the approval origin of a running server", () => {
    const app = {
      grpcPort: 7443,
      connectPort: 7444,
      approvalOrigin: "https://localhost:7445",
      metricsPort: 7446,
      store: { close() {} },
      stop: async () => {},
    };
    const listening = serverListening(app);
    expect(listening).toEqual({
      grpcPort: 7443,
      connectPort: 7444,
      approvalOrigin: "https://localhost:7445",
    });
    // What crosses the IPC channel is plain JSON, and reads back the same.
    expect(serverListening(JSON.parse(JSON.stringify(listening)))).toEqual(listening);
  });

  it("reads an absent approval origin as undefined, and nothing as no ports", () => {
    const announced = JSON.parse(JSON.stringify({ grpcPort: 1, connectPort: 2 }));
    expect(serverListening(announced)).toEqual({
      grpcPort: 1,
      connectPort: 2,
      approvalOrigin: undefined,
    });
    expect(serverListening(undefined)).toMatchObject({ grpcPort: Number.NaN });
  });
});
