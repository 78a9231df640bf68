import { ConfigError } from '@fullstory-singer/singer-core';

/**
 * Checks an `api_key` setting before anything is sent: a key is one word of printable ASCII. A
 * newline, a carriage return or another character an HTTP header cannot carry would otherwise
 * fail every request deep in the HTTP library, looking like a network error. Both CLIs call this
 * when they load their config.
 *
 * @throws ConfigError (exit 2) naming `api_key`, the kind of character and where it is; never the key.
 */
export function checkApiKey(apiKey: string): void {
  for (let i = 0; i < apiKey.length; i++) {
    const code = apiKey.charCodeAt(i);
    if (code > 0x20 && code < 0x7f) continue;
    throw new ConfigError(
      `api_key: contains ${describeCharacter(code)} at character ${i + 1} of ${apiKey.length}; an API key is one word ` +
        'of printable ASCII, as FullStory issued it (look for a line break or a space where it was pasted). The key is not shown.',
    );
  }
}

function describeCharacter(code: number): string {
  if (code === 0x0a) return 'a line break (LF)';
  if (code === 0x0d) return 'a carriage return (CR)';
  if (code === 0x20) return 'a space';
  if (code === 0x09) return 'a tab';
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  return code < 0x20 || code === 0x7f ? `a control character (U+${hex})` : `a character outside ASCII (U+${hex})`;
}
