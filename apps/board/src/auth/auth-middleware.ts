import type { Clock, Logger } from '@kai-jobs/queue';
import type { RequestHandler } from 'express';
import { AuthMode, type AuthOptions } from '../config.js';
import { clientKey } from './client-key.js';
import { AuthOutcome, CredentialChecker } from './credentials.js';
import { FailureLimiter } from './failure-limiter.js';
import { isLoopbackAddress } from './loopback.js';

/** What {@link createAuthMiddleware} needs. */
export interface AuthMiddlewareDeps {
  auth: AuthOptions;
  logger: Logger;
  clock: Clock;
}

/**
 * The board's authentication: every request through it needs valid basic-auth
 * credentials or the bearer token. Failed attempts are limited per client (see
 * {@link FailureLimiter}); a client over the limit gets 429 with `Retry-After`.
 * With auth off, only loopback clients get through (the board is bound to loopback then,
 * so this only matters behind a local proxy).
 */
export function createAuthMiddleware(deps: AuthMiddlewareDeps): RequestHandler {
  const { auth, logger } = deps;
  if (auth.mode === AuthMode.Off) {
    return (req, res, next) => {
      if (isLoopbackAddress(req.socket.remoteAddress ?? '')) {
        next();
        return;
      }
      res.status(403).json({ error: 'forbidden', message: 'authentication is off: only loopback clients are served' });
    };
  }
  const checker = new CredentialChecker(auth);
  const limiter = new FailureLimiter({
    capacity: auth.maxFailures,
    refillMs: auth.failureRefillMs,
    maxClients: auth.maxTrackedClients,
    clock: deps.clock,
  });
  // RFC 7617: `charset` tells browsers the basic-auth pair is UTF-8 (it only exists for Basic).
  const challenge = checker
    .schemes()
    .map((scheme) => (scheme === 'Basic' ? `Basic realm="${auth.realm}", charset="UTF-8"` : `Bearer realm="${auth.realm}"`));

  return (req, res, next) => {
    const client = clientKey(req.ip);
    const waitMs = limiter.retryAfterMs(client);
    if (waitMs > 0) {
      res.set('Retry-After', String(Math.ceil(waitMs / 1000)));
      res.status(429).json({ error: 'too many failed attempts', retryAfterSeconds: Math.ceil(waitMs / 1000) });
      return;
    }
    const { outcome, scheme } = checker.check(req.get('authorization'));
    if (outcome === AuthOutcome.Ok) {
      next();
      return;
    }
    if (outcome === AuthOutcome.Invalid) {
      limiter.recordFailure(client);
      logger.warn('board authentication failed', { client, scheme, method: req.method, path: req.path });
    }
    res.set('WWW-Authenticate', challenge.join(', '));
    res.status(401).json({ error: 'authentication required' });
  };
}
