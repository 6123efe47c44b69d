import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log: we never log headers or bodies, and the
 * redaction list is a second line of defence for anything that carries a token by mistake.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'rollout-controller' },
      redact: {
        paths: ['authorization', 'secret', 'token', '*.authorization', '*.secret', '*.token', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
