import { host, integer } from "./parsers.js";
import { setting } from "./setting.js";

/** A listener's `host` and `port` settings, `<PREFIX>_HOST` and `<PREFIX>_PORT` in the environment. */
export function endpointSettings(envPrefix: string, port: number, what: string) {
  return {
    host: setting({ env: `${envPrefix}_HOST`, default: "127.0.0.1", parse: host, doc: what }),
    port: setting({
      env: `${envPrefix}_PORT`,
      default: port,
      parse: integer(0, 65_535),
      doc: `${what}: its port (0: any free one)`,
    }),
  };
}
