import { pino, type Logger } from 'pino';

/** The log levels every command accepts, as `--log-level` names them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The one logger setup: JSON lines with the level's name (`"level":"info"`, not pino's number),
 * secrets redacted, or human-readable lines on standard error with `pretty`.
 */
export function createLogger(options: { level: LogLevel; pretty: boolean }): Logger {
  return pino({
    level: options.level,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['config.etcd.password', '*.password', 'password'], censor: '***' },
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { destination: 2 } } } : {}),
  });
}
