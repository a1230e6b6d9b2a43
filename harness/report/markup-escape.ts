/**
 * XML and HTML escaping for junit.xml and report.html (SPEC §5). Hand-written: the rules
 * are short and a dependency would not make them clearer.
 */

/**
 * Characters XML 1.0 cannot carry at all, not even as references: C0 controls other than
 * tab, LF and CR, lone surrogates, U+FFFE and U+FFFF (XML 1.0 §2.2 `Char`).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML forbids is the point.
const XML_INVALID_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Removes the characters XML 1.0 forbids (see {@link XML_INVALID_CHARS}).
 * @see SPEC §5
 */
export function stripXmlInvalidChars(value: string): string {
  return value.replace(XML_INVALID_CHARS, '');
}

/**
 * Text content for XML or HTML: invalid characters stripped, `& < >` escaped.
 * @see SPEC §5
 */
export function escapeXmlText(value: string): string {
  return stripXmlInvalidChars(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A double- or single-quoted attribute value for XML or HTML. Tab, LF and CR become
 * character references so attribute-value normalization does not turn them into spaces.
 * @see SPEC §5
 */
export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
