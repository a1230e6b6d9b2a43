/**
 * Media types of `content-type` values, compared exactly: the type/subtype without
 * parameters (`charset` and the like are ignored), case-insensitive (RFC 9110 §8.3.1).
 * `application/jsonx` or `text/json-ish` is not `application/json`; a
 * `+json` type such as `application/problem+json` is JSON, but it only matches an
 * answer when the contract (contracts/runtime.openapi.yaml) lists that very type.
 */

/** RFC 9110 `token` characters. */
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/**
 * The media type of a `content-type` value, lowercase and without parameters
 * (`application/json; charset=utf-8` → `application/json`); undefined when the value is
 * missing, empty or not a media type (`json`, `application/`, `a/b/c`).
 */
export function mediaTypeOf(contentType: string | null | undefined): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  const essence = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return MEDIA_TYPE.test(essence) ? essence : undefined;
}

/** True when the value's media type is exactly `expected` (compared as media types, parameters ignored). */
export function sameMediaType(contentType: string | null | undefined, expected: string): boolean {
  const actual = mediaTypeOf(contentType);
  return actual !== undefined && actual === mediaTypeOf(expected);
}

/** `application/json` or a structured-syntax `+json` type (RFC 6839 §3.1); parameters ignored. */
export function isJsonMediaType(contentType: string | null | undefined): boolean {
  const type = mediaTypeOf(contentType);
  return type === 'application/json' || type?.endsWith('+json') === true;
}
