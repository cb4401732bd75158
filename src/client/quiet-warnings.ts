/**
 * grpc-js hands an IP address to Node as the TLS server name when it dials one (the default
 * `--server 127.0.0.1:7443`), and Node answers every such call with deprecation DEP0123.
 * The certificate is still checked against the IP; only SNI is skipped, which the server
 * does not use. Dropping that one warning keeps command output clean; every other warning
 * still reaches Node's own printer.
 */
const IP_SERVERNAME_DEPRECATION = "DEP0123";

const printers = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning: Error & { code?: string }) => {
  if (warning.code === IP_SERVERNAME_DEPRECATION) return;
  for (const print of printers) print(warning);
});
