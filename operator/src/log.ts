// JSON logs (pino) on stdout; one logger, children per component.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'operator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
