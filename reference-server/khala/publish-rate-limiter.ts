/**
 * Per-topic publish rate limit (SPEC §3.3): a token bucket per topic holding one
 * second of the class's PUBLISH_RATE_PER_SECOND. Enforced per instance.
 */
export class PublishRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one token; returns the seconds to wait when none is left (for Retry-After). */
  take(topic: string, ratePerSecond: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(topic) ?? { tokens: ratePerSecond, at: now };
    bucket.tokens = Math.min(ratePerSecond, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    if (this.buckets.size > 10_000 && !this.buckets.has(topic)) this.buckets.clear();
    this.buckets.set(topic, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)) };
  }
}
