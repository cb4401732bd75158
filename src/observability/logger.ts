import { type Logger, type LoggerOptions, pino } from "pino";

/**
 * Paths pino blanks out wherever they appear. The services never log request bodies, but
 * anything that names a secret is redacted as a second line of defence.
 */
const REDACT = [
  "token",
  "accessToken",
  "access_token",
  "pass",
  "passToken",
  "signature",
  "proofOfPossession",
  "privateKeyPem",
  "challengeId",
  "authorization",
  "*.token",
  "*.accessToken",
  "*.pass",
  "*.passToken",
  "*.signature",
  "*.privateKeyPem",
  "*.authorization",
];

export type { Logger };

export function createLogger(
  level: LoggerOptions["level"] = "info",
  destination?: pino.DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: "gatehouse" },
    redact: { paths: REDACT, censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
