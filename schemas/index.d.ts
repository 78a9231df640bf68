/** Absolute path of a schema file, e.g. schemaPath('config/tap-fullstory.json'). */
export declare function schemaPath(relativePath: string): string;
/** Parsed JSON of a schema file, e.g. loadSchema('streams/events.json'). */
export declare function loadSchema<T = Record<string, unknown>>(relativePath: string): T;
