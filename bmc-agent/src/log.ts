// Structured JSON logs on stdout (pino). LOG_LEVEL wins; DEBUG=true alone means debug.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? 'bmc-agent',
    level: options.level,
    // Credentials must never reach the logs, whatever object a caller passes.
    redact: {
      paths: ['password', '*.password', 'config.ipmi.password', 'ipmi.password', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that discards everything, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
