import { Command, Option } from "commander";
import { describeConfig, describeSettings, type Mode, SERVER_ROLES } from "../config/index.js";
import { SETTINGS } from "../config/table.js";
import { runServer } from "./run-server.js";
import { loadServerConfig, type ServerFlags } from "./server-config.js";

/** The defaults come from the configuration table, so the help cannot name another port. */
const portHelp = (what: string, port: number) =>
  `${what} port; 0 picks a free one (default: ${port})`;

const CONFIG_FLAG = ["--config <file>", "TOML config file (default: $GATEHOUSE_CONFIG)"] as const;

/**
 * `gatehouse dev`: zero setup; embedded store and a dev PKI under the data dir, and the HTTP
 * sidecar in the same process, trusted as a proxy with a secret made up for this run.
 */
export function devCommand(): Command {
  return new Command("dev")
    .description("run a local Gatehouse: embedded store, dev PKI generated on first start")
    .option("--data-dir <dir>", "where state and the dev PKI live (default: .gatehouse)")
    .option("--grpc-port <port>", portHelp("gRPC", SETTINGS.grpc.port.default))
    .option("--connect-port <port>", portHelp("Connect", SETTINGS.connect.port.default))
    .option("--sidecar-port <port>", portHelp("HTTP sidecar", SETTINGS.sidecar.port.default))
    .option(...CONFIG_FLAG)
    .action(async (flags: ServerFlags) => {
      // Loaded here only: `serve` needs neither the sidecar nor the dev hints.
      const [{ devWorkerEnv, withDevSidecar }, { printDevHints }, { runSidecar }] =
        await Promise.all([
          import("../sidecar/dev.js"),
          import("./dev-hints.js"),
          import("./sidecar-command.js"),
        ]);
      const loaded = loadServerConfig("dev", flags);
      const config = withDevSidecar(loaded);
      await runServer(
        config,
        async (app) => {
          await printDevHints(config, app);
          // The sidecar dials the gRPC port actually bound (the configured one may be 0).
          const sidecar = await runSidecar({
            ...config,
            grpc: { ...config.grpc, port: app.grpcPort },
          });
          // On a signal it drains first: what it has in flight waits on this server.
          return () => sidecar.stop();
        },
        // Workers (on Redis) trust the proxy secret made up here, the one the sidecar signs with.
        devWorkerEnv(loaded, config),
      );
    });
}

/** `gatehouse serve`: production; TLS files required, Redis when configured. */
export function serveCommand(): Command {
  return new Command("serve")
    .description("run Gatehouse with configured TLS files (and Redis via REDIS_URL or config)")
    .option(...CONFIG_FLAG)
    .option("--workers <n>", "server processes sharing the ports; > 1 needs Redis (default: 1)")
    .addOption(
      new Option(
        "--role <role>",
        "verifier: only Verify, Check, GetJwks, GetIssuerMetadata; issuer: the rest (default: all)",
      ).choices(SERVER_ROLES),
    )
    .action(async (flags: ServerFlags) => {
      await runServer(loadServerConfig("serve", flags));
    });
}

interface CheckFlags {
  readonly config?: string;
  readonly mode: Mode;
  readonly all?: boolean;
}

/** `gatehouse config check`: validates without starting anything. */
export function configCommand(): Command {
  const check = new Command("check")
    .description("load the configuration and print it (secrets left out), or every problem")
    .option(...CONFIG_FLAG)
    .addOption(
      new Option("--mode <mode>", "the mode to check for")
        .choices(["dev", "serve"])
        .default("serve"),
    )
    .option("--all", "every setting a line (file key = value), secrets shown only as set")
    .action((flags: CheckFlags) => {
      const { mode, all, ...serverFlags } = flags;
      const config = loadServerConfig(mode, serverFlags);
      console.log(all ? describeSettings(config) : describeConfig(config));
    });
  return new Command("config").description("inspect the configuration").addCommand(check);
}
