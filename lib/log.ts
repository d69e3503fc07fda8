/**
 * Structured JSON logging (Powertools Logger). One logger per container; its level comes from
 * LOG_LEVEL once the configuration is read.
 * Rule: never pass a password, hash, token or secret to the logger — ids, logins and outcomes only.
 */
import { Logger } from '@aws-lambda-powertools/logger'
import type { LogLevel } from './config.js'

export type { Logger }

export const logger = new Logger({ serviceName: 'attune-auth' })

export function setLogLevel(level: LogLevel): void {
  logger.setLogLevel(level.toUpperCase() as Uppercase<LogLevel>)
}
