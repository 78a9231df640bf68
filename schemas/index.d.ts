/** Parsed JSON of a schema file, e.g. loadSchema('streams/events.json'). */
export declare function loadSchema<T = Record<string, unknown>>(relativePath: string): T;
