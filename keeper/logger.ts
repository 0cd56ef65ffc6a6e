/**
 * Structured JSON logs (pino). Secrets are redacted by key name wherever they appear.
 */
import { pino, type Logger } from 'pino';

/** Creates the process logger; level from `BALLAST_LOG_LEVEL` (default `info`). */
export function createLogger(name: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    name,
    level: process.env.BALLAST_LOG_LEVEL ?? 'info',
    redact: { paths: ['privateKey', '*.privateKey', 'key', '*.key', 'mnemonic'], censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger };
