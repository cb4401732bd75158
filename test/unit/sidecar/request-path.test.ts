import { describe, expect, it } from "vitest";
import { routePath } from "../../../src/sidecar/request-path.js";

describe("routePath: the path a forward-auth route is chosen by", () => {
  it.each([
    ["/orders/5", "/orders/5"],
    ["/orders/5?q=1#x", "/orders/5"],
    ["/orders/", "/orders/"],
    ["/", "/"],
    ["/orders/../admin", "/admin"],
    ["/orders/./5", "/orders/5"],
    ["/orders/%2e%2e/admin", "/admin"],
    ["/orders/.%2E/admin", "/admin"],
    ["/orders/5/..", "/orders/"],
    ["/..", "/"],
    ["/orders//5", "/orders/5"],
    ["/%6Frders/%41", "/orders/A"],
    ["/files/caf%C3%A9", "/files/café"],
    // An encoded ? or # is data (RFC 3986 §3.3): it must not cut the path before a dot-segment.
    ["/public%3F/../private/x", "/private/x"],
    ["/public%23/../private/x", "/private/x"],
    ["/public%3F/%2e%2e/private/x", "/private/x"],
    ["/public%3f", "/public?"],
  ])("%s → %s", (target, expected) => {
    expect(routePath(target)).toBe(expected);
  });

  it.each([
    ["an encoded slash", "/public%2F..%2Fprivate/x"],
    ["an encoded backslash", "/private%5C..%5Cpublic/x"],
    ["a raw backslash", "/private\\..\\public/x"],
    ["an encoded NUL", "/public/%00/x"],
    ["a dot-segment with parameters", "/public/..;/private/x"],
    ["a dot-segment with encoded parameters", "/public/.%2e%3Bx/private"],
    ["an empty segment before ..", "/public//../private"],
    ["a malformed escape", "/public/%zz"],
    ["a relative path", "public/x"],
  ])("refuses %s (servers could resolve it differently)", (_, target) => {
    expect(routePath(target)).toBeUndefined();
  });
});
