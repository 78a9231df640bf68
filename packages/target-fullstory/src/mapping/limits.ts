/**
 * The limits FullStory documents for what a request may hold, checked before anything is sent so
 * that a bad value costs one dead-letter line rather than a refused batch:
 * - users: `uid` and `display_name` at most 256 characters, `email` at most 128, at most 500 unique
 *   properties, names `[A-Za-z][A-Za-z0-9_]*` of at most 512 characters counting the dotted path of
 *   nested keys, values at most 8192 bytes
 *   (https://developer.fullstory.com/server/users/create-user/,
 *   https://developer.fullstory.com/server/users/create-batch-user-import-job);
 * - events: a name of at most 250 characters, and not empty
 *   (https://help.fullstory.com/hc/en-us/articles/360020623234; the server's own cap is not published,
 *   so the browser API's is used).
 */

/** Longest `uid` (and `display_name`) FullStory accepts, in characters. */
export const MAX_UID_LENGTH = 256;
/** Longest `display_name`, in characters. */
export const MAX_DISPLAY_NAME_LENGTH = 256;
/** Longest `email`, in characters. */
export const MAX_EMAIL_LENGTH = 128;
/** Longest event name, in characters. */
export const MAX_EVENT_NAME_LENGTH = 250;
/** Most properties one request may set (leaves of the property tree). */
export const MAX_PROPERTIES = 500;
/** Longest property value, in UTF-8 bytes (JSON text for non-strings). */
export const MAX_PROPERTY_VALUE_BYTES = 8192;
/** Longest dotted property path. */
export const MAX_PROPERTY_PATH_LENGTH = 512;

/**
 * Whether `text` is longer than `max` characters. FullStory counts characters, JavaScript UTF-16 code
 * units; a string is counted by code points only when its code units exceed the limit.
 */
export function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let n = 0;
  for (const _ of text) if (++n > max) return true;
  return false;
}
